"""`course train-demo`: train a network on the embedded MNIST subset and write its plots."""
import json
import time
from pathlib import Path


def run_train_demo(out_dir):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from cs231n_lib import data, models, plots, solver

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    dataset = data.get_mnist_data(num_train=4000, num_val=500, num_test=500, seed=0)
    model = models.FullyConnectedNet([100, 100], input_dim=784, num_classes=10,
                                     activation="relu", init="he", reg=1e-4, seed=0)
    trainer = solver.Solver(model, dataset, update_rule="adam",
                            optim_config={"learning_rate": 1e-3}, batch_size=100,
                            num_epochs=8, seed=0)
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    test_acc = trainer.check_accuracy(dataset["X_test"], dataset["y_test"])

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    plots.plot_loss(trainer.loss_history, epochs=trainer.epoch_of_iteration, ax=axes[0])
    plots.plot_accuracy(trainer.train_acc_history, trainer.val_acc_history, ax=axes[1])
    fig.suptitle("2-layer ReLU net, Adam, embedded MNIST subset")
    fig.tight_layout()
    figure = out / "training_curves.png"
    fig.savefig(figure, dpi=100)
    plt.close(fig)

    summary = {"train_seconds": round(seconds, 2), "best_val_acc": trainer.best_val_acc,
               "test_acc": test_acc, "figure": str(figure)}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"trained in {seconds:.1f} s: best validation accuracy {trainer.best_val_acc:.3f}, "
          f"test accuracy {test_acc:.3f}")
    print(f"plots: {figure}")
    return 0

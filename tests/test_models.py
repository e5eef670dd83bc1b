"""Tests of cs231n_lib.models.FullyConnectedNet: whole-model gradient checks and the contract."""
import math

import numpy as np
import pytest

from cs231n_lib.gradient_check import eval_numerical_gradient, rel_error
from cs231n_lib.models import FullyConnectedNet

INPUT_DIM, NUM_CLASSES = 6, 10


def small_batch(seed, num_samples=4):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((num_samples, INPUT_DIM)),
            rng.integers(NUM_CLASSES, size=num_samples))


def checkable_model(seed, hidden_dims=(7, 5), **options):
    """A small model in a 'characteristic' state (G9): random biases, gammas and betas.

    Random biases also keep ReLU inputs off the kink at exactly 0, which zero-initialized
    biases would hit whenever dropout zeroes a whole row of the previous layer.
    """
    rng = np.random.default_rng(seed)
    model = FullyConnectedNet(list(hidden_dims), input_dim=INPUT_DIM, num_classes=NUM_CLASSES,
                              init="xavier", seed=seed, **options)
    for name, param in model.params.items():
        if not name.startswith("W"):
            model.params[name] = param + rng.uniform(-0.5, 0.5, param.shape)
    model.dropout_param["seed"] = seed  # the same masks in every numerical evaluation
    return model


def check_model_gradients(model, X, y):
    """Compare every analytic parameter gradient with the centered numerical one."""
    _, grads = model.loss(X, y)
    assert set(grads) == set(model.params)
    for name, param in model.params.items():
        numeric = eval_numerical_gradient(lambda _: model.loss(X, y)[0], param)
        feeds_batchnorm = name in {f"b{i}" for i in range(1, model.num_layers)}
        if model.normalization == "batchnorm" and feeds_batchnorm:
            # A bias feeding batchnorm is cancelled by the mean subtraction: its gradient is 0,
            # so a relative error between round-off residues means nothing; check it absolutely.
            assert np.abs(numeric).max() < 1e-8 and np.abs(grads[name]).max() < 1e-8, name
        else:
            assert rel_error(numeric, grads[name]) < 1e-6, name


# Elementwise relative errors of gradient entries near 1e-5 reach ~1e-6 from round-off alone
# (about 1e-16 * loss / h); with this seed every case stays below 1e-7.
GRAD_CHECK_SEED = 6


@pytest.mark.parametrize("options", [
    dict(activation="relu"),
    dict(activation="tanh", reg=0.7),
    dict(activation="sigmoid", reg=0.1),
    dict(normalization="batchnorm"),
    dict(keep_prob=0.7),
    dict(normalization="batchnorm", keep_prob=0.7, reg=0.3),
    dict(hidden_dims=(), reg=0.2),
], ids=["relu", "tanh+reg", "sigmoid+reg", "batchnorm", "dropout", "batchnorm+dropout+reg",
        "no_hidden"])
def test_full_model_gradient_check(options):
    model = checkable_model(GRAD_CHECK_SEED, **options)
    # Three examples (G7): few kinks, fast; batchnorm needs more than two.
    X, y = small_batch(GRAD_CHECK_SEED, num_samples=3)
    check_model_gradients(model, X, y)


def test_fixed_dropout_seed_gives_same_loss_and_fresh_masks_otherwise():
    model = FullyConnectedNet([20], input_dim=INPUT_DIM, keep_prob=0.5, seed=0)
    X, y = small_batch(2)
    fresh = [model.loss(X, y)[0] for _ in range(2)]
    assert fresh[0] != fresh[1]  # training draws a new mask every pass
    model.dropout_param["seed"] = 5
    assert model.loss(X, y)[0] == model.loss(X, y)[0]


def test_same_seed_same_model_and_same_dropout_masks():
    X, y = small_batch(3)
    models = [FullyConnectedNet([8, 8], input_dim=INPUT_DIM, keep_prob=0.5, seed=42)
              for _ in range(2)]
    for name in models[0].params:
        np.testing.assert_array_equal(models[0].params[name], models[1].params[name])
    for _ in range(3):
        loss_a, grads_a = models[0].loss(X, y)
        loss_b, grads_b = models[1].loss(X, y)
        assert loss_a == loss_b
        np.testing.assert_array_equal(grads_a["W1"], grads_b["W1"])
    other = FullyConnectedNet([8, 8], input_dim=INPUT_DIM, keep_prob=0.5, seed=43)
    assert not np.array_equal(other.params["W1"], models[0].params["W1"])


def test_params_shapes_and_initial_values():
    model = FullyConnectedNet([7, 5], input_dim=INPUT_DIM, num_classes=3,
                              normalization="batchnorm", seed=0)
    expected = {"W1": (6, 7), "b1": (7,), "gamma1": (7,), "beta1": (7,),
                "W2": (7, 5), "b2": (5,), "gamma2": (5,), "beta2": (5,),
                "W3": (5, 3), "b3": (3,)}
    assert {name: p.shape for name, p in model.params.items()} == expected
    for i in (1, 2):
        np.testing.assert_array_equal(model.params[f"gamma{i}"], 1.0)
        np.testing.assert_array_equal(model.params[f"beta{i}"], 0.0)
    for i in (1, 2, 3):
        np.testing.assert_array_equal(model.params[f"b{i}"], 0.0)
    assert len(model.bn_params) == 2


@pytest.mark.parametrize("init, std", [("he", math.sqrt(2 / 400)), ("xavier", 1 / 20),
                                       ("small", 0.01), (0.3, 0.3)])
def test_init_scheme_sets_weight_std(init, std):
    model = FullyConnectedNet([300], input_dim=400, init=init, seed=0)
    assert model.params["W1"].std() == pytest.approx(std, rel=0.02)


def test_zero_init():
    model = FullyConnectedNet([5], input_dim=INPUT_DIM, init="zeros", seed=0)
    np.testing.assert_array_equal(model.params["W1"], 0.0)


@pytest.mark.parametrize("hidden_dims", [[10], [13], [50], [100], [50, 50], [100] * 4])
def test_zero_init_units_stay_identical(hidden_dims):
    """Symmetry (I1): from equal weights every hidden unit gets the same gradient, so the units
    never become different. In floating point "the same" means up to round-off: BLAS kernels
    may round some output columns differently (~1e-16), and training must not amplify that."""
    from cs231n_lib.optim import sgd
    model = FullyConnectedNet(hidden_dims, input_dim=37, activation="sigmoid", init="zeros",
                              seed=0)
    rng = np.random.default_rng(0)
    for _ in range(20):
        X, y = rng.standard_normal((100, 37)), rng.integers(NUM_CLASSES, size=100)
        _, grads = model.loss(X, y)
        for name, grad in grads.items():
            model.params[name], _ = sgd(model.params[name], grad, {"learning_rate": 0.5})
    assert np.abs(model.params["W1"]).max() > 0  # it did learn (deep: very slowly)
    for layer in range(1, len(hidden_dims) + 1):
        W, b = model.params[f"W{layer}"], model.params[f"b{layer}"]
        scale = np.abs(W).max() + np.abs(b).max()
        assert np.abs(W - W[:, :1]).max() <= 1e-12 * scale, f"W{layer} columns differ"
        assert np.abs(b - b[0]).max() <= 1e-12 * scale, f"b{layer} entries differ"


def test_initial_loss_is_log_num_classes():
    """With small weights the scores are near 0 and the softmax loss is ~ ln(10) (S1)."""
    model = FullyConnectedNet([50, 50], input_dim=INPUT_DIM, init="small", seed=0)
    X, y = small_batch(4, num_samples=200)
    loss, _ = model.loss(X, y)
    assert loss == pytest.approx(math.log(10), abs=1e-3)


def test_regularization_raises_the_loss():
    X, y = small_batch(5, num_samples=20)
    losses = [FullyConnectedNet([10], input_dim=INPUT_DIM, reg=reg, seed=0).loss(X, y)[0]
              for reg in (0.0, 0.1, 1.0)]
    assert losses[0] < losses[1] < losses[2]


def test_regularization_applies_to_weights_only():
    X, y = small_batch(6, num_samples=8)
    model = FullyConnectedNet([10], input_dim=INPUT_DIM, normalization="batchnorm", seed=0)
    for name in model.params:
        if not name.startswith("W"):
            model.params[name] = model.params[name] + 0.5  # non-zero, so an L2 term would show
    loss_0, grads_0 = model.loss(X, y)
    model.reg = 2.0
    loss_reg, grads_reg = model.loss(X, y)
    W_sq = sum(np.sum(model.params[name] ** 2) for name in ("W1", "W2"))
    assert loss_reg == pytest.approx(loss_0 + 0.5 * 2.0 * W_sq, rel=1e-12)
    for name in model.params:
        expected = grads_0[name] + (2.0 * model.params[name] if name.startswith("W") else 0.0)
        np.testing.assert_allclose(grads_reg[name], expected, rtol=1e-12, atol=1e-14)


def test_float32_model_keeps_float32():
    model = FullyConnectedNet([8, 8], input_dim=INPUT_DIM, normalization="batchnorm",
                              keep_prob=0.8, reg=0.1, dtype=np.float32, seed=0)
    X, y = small_batch(7)
    assert all(p.dtype == np.float32 for p in model.params.values())
    assert model.loss(X).dtype == np.float32  # float64 input is cast to the model's dtype
    loss, grads = model.loss(X, y)
    assert np.isfinite(loss)
    assert all(g.dtype == np.float32 for g in grads.values())
    assert all(a.dtype == np.float32 for a in model.last_activations)


def test_test_mode_returns_scores_and_uses_running_stats():
    model = FullyConnectedNet([8], input_dim=INPUT_DIM, normalization="batchnorm",
                              keep_prob=0.5, seed=0)
    X, y = small_batch(8, num_samples=10)
    model.loss(X, y)
    running_mean = model.bn_params[0]["running_mean"].copy()
    scores = model.loss(X)
    assert scores.shape == (10, NUM_CLASSES)
    np.testing.assert_array_equal(model.bn_params[0]["running_mean"], running_mean)
    np.testing.assert_array_equal(model.loss(X), scores)  # no dropout at test time
    np.testing.assert_array_equal(model.predict(X), np.argmax(scores, axis=1))


def test_predict_in_batches_and_image_shaped_input():
    model = FullyConnectedNet([5], input_dim=12, seed=0)
    X = np.random.default_rng(9).standard_normal((7, 3, 4))
    labels = model.predict(X)
    assert labels.shape == (7,)
    np.testing.assert_array_equal(model.predict(X, batch_size=3), labels)


def test_last_activations_are_hidden_outputs():
    model = FullyConnectedNet([8, 6], input_dim=INPUT_DIM, activation="sigmoid",
                              keep_prob=0.5, seed=0)
    X, y = small_batch(10)
    model.loss(X, y)
    assert [a.shape for a in model.last_activations] == [(4, 8), (4, 6)]
    # Recorded before dropout: sigmoid outputs, never zeroed or scaled above 1.
    assert all(((a > 0) & (a < 1)).all() for a in model.last_activations)


def test_model_learns_a_tiny_problem():
    """A few hundred plain gradient steps overfit 10 examples (S3, in miniature)."""
    model = FullyConnectedNet([30], input_dim=INPUT_DIM, seed=0)
    X, y = small_batch(11, num_samples=10)
    for _ in range(300):
        _, grads = model.loss(X, y)
        for name in model.params:
            model.params[name] = model.params[name] - 0.5 * grads[name]
    assert np.mean(model.predict(X) == y) == 1.0


@pytest.mark.parametrize("kwargs, match", [
    (dict(activation="softplus"), "activation"),
    (dict(normalization="layernorm"), "normalization"),
    (dict(keep_prob=0.0), "keep_prob"),
    (dict(keep_prob=1.2), "keep_prob"),
    (dict(init="lecun"), "init"),
    (dict(init=-1.0), "std"),
    (dict(reg=-0.1), "reg"),
    (dict(dtype=np.int32), "dtype"),
    (dict(hidden_dims=[5, 0]), "hidden_dims"),
    (dict(input_dim=0), "input_dim"),
])
def test_bad_constructor_arguments(kwargs, match):
    kwargs = dict(kwargs)
    hidden_dims = kwargs.pop("hidden_dims", [5])
    with pytest.raises(ValueError, match=match):
        FullyConnectedNet(hidden_dims, input_dim=kwargs.pop("input_dim", INPUT_DIM), **kwargs)


@pytest.mark.parametrize("X", [np.zeros((4, INPUT_DIM + 1)), np.zeros(INPUT_DIM),
                               np.zeros((4, 2, 2))])
def test_bad_input_shape(X):
    model = FullyConnectedNet([5], input_dim=INPUT_DIM, seed=0)
    with pytest.raises(ValueError, match="X must have shape"):
        model.loss(X, np.zeros(X.shape[0], dtype=int))
    with pytest.raises(ValueError, match="X must have shape"):
        model.loss(X)


def test_bad_labels():
    model = FullyConnectedNet([5], input_dim=INPUT_DIM, seed=0)
    X, _ = small_batch(12)
    with pytest.raises(ValueError, match="labels"):
        model.loss(X, np.array([0, 1, 2, NUM_CLASSES]))

"""Test-session settings shared by every test module."""

# Modules that each take a minute or more on one core (a whole class graded, servers, a
# browser). pytest-xdist's loadscope hands scopes out in collection order, so starting them
# first keeps the other core busy with the many short tests instead of waiting at the end.
HEAVY_FIRST = ("test_fairness.py", "test_demo.py", "test_isolation.py", "test_i18n_grading.py",
               "test_browser.py", "test_notebooks.py")


def pytest_collection_modifyitems(items):
    def rank(item):
        name = item.path.name
        return HEAVY_FIRST.index(name) if name in HEAVY_FIRST else len(HEAVY_FIRST)
    items.sort(key=rank)   # stable: the order inside each module (and notebook) is kept

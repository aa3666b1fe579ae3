"""The project's packages (shared, orchestration, choreography, tools) are installed editable into
.venv (`make install`), so tests import them like any installed package. `tests` itself is a
package: pytest puts the checkout's root on sys.path for it (its rootdir-based "prepend" import
mode), which is how `from tests.fakes import ...` resolves."""

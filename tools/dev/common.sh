# Shell helpers shared by tools/dev/install.sh and tools/dev/setup_localstack.sh (sourced, not run).

say() { echo "==> $*"; }
die() { echo "error: $*" >&2; exit 1; }
# pip's notes about unreachable extra indexes are noise here.
pip_quiet() { "$@" --quiet --disable-pip-version-check 2> >(grep -v "is ignored: it is neither" >&2); }
stamp_ok() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

# A candidate counts only if it runs: pyenv shims exist for every installed version but
# fail unless that version is selected.
find_python() {
  local version=$1 root candidate
  root=${PYENV_ROOT:-$HOME/.pyenv}
  command -v pyenv >/dev/null 2>&1 && root=$(pyenv root)
  for candidate in "$(command -v "python$version" || true)" "$root"/versions/"$version".*/bin/python"$version" \
                   /usr/bin/python"$version" /usr/local/bin/python"$version"; do
    [ -n "$candidate" ] && [ -x "$candidate" ] || continue
    if "$candidate" -c 'import sys, venv' >/dev/null 2>&1; then echo "$candidate"; return 0; fi
  done
  return 1
}

apt_install() {
  command -v apt-get >/dev/null || return 1
  say "apt-get install $*"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

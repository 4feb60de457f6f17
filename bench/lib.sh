# shellcheck shell=bash
# Sourced by bench/*.sh from the project's top folder: the packages, and
# the build the numbers come from.
. scripts/deps.sh

# bench_build DIR [NINJA_TARGET]...: configures DIR as a release build
# when it is new and builds it (only the targets given, if any). Numbers
# from a debug build are not ripcord's: a DIR that is not a release build
# gets a warning.
bench_build() {
  local dir=$1 out buildtype
  shift
  [ -f "$dir/build.ninja" ] || meson setup "$dir" --buildtype=release >/dev/null
  out=$(ninja -C "$dir" "$@") || { echo "$out" >&2; return 1; }
  buildtype=$(meson introspect "$dir" --buildoptions |
    python3 -c "import json,sys; print(next(o['value'] for o in json.load(sys.stdin) if o['name'] == 'buildtype'))")
  [ "$buildtype" = release ] || echo "warning: $dir is a '$buildtype' build, not release" >&2
}

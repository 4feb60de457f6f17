#!/usr/bin/env bash
# contrib/systemd: ripcord-drill.service and .timer pass `systemd-analyze
# verify` without a single warning, once pointed at the built binary (the
# check is live: a missing binary and a misspelt key are caught); the
# timer's calendar and delay parse; the service runs `drill --due` on the
# folder RIPCORD_DIR names, and that command line works as systemd would
# run it. Skipped where systemd-analyze is missing (Debian: systemd).
. "$(dirname "$0")/lib.sh"

if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "1..0 # SKIP systemd-analyze is not installed (Debian: systemd)"
  exit 0
fi
units=${SOURCE_ROOT:-$(dirname "$0")/../..}/contrib/systemd
service=$units/ripcord-drill.service
timer=$units/ripcord-drill.timer
check "the service exists" test -f "$service"
check "the timer exists" test -f "$timer"

# verify VAR FILE...: systemd-analyze verify, its output in $WORK/verify.out
verify() {
  systemd-analyze verify --man=no "$@" >"$WORK/verify.out" 2>&1
}
# key FILE KEY: the value of KEY= in FILE (the last one, as systemd reads it)
key() { sed -n "s/^$2=//p" "$1" | tail -n 1; }

# the units as shipped, with ExecStart pointed at the built binary
mkdir -p "$WORK/units" && cp "$timer" "$WORK/units/"
sed "s|^\(ExecStart\(Post\)\?\)=ripcord |\1=$RIPCORD |" "$service" > "$WORK/units/ripcord-drill.service"
check "ExecStart now names the built binary" grep -qxF "ExecStart=$RIPCORD -C \${RIPCORD_DIR} drill --due" "$WORK/units/ripcord-drill.service"
if verify "$WORK/units/ripcord-drill.service" "$WORK/units/ripcord-drill.timer"; then
  ok "systemd-analyze verify passes"
else
  not_ok "systemd-analyze verify passes" "$(cat "$WORK/verify.out")"
fi
check "without a warning" test ! -s "$WORK/verify.out"
[ -s "$WORK/verify.out" ] && sed 's/^/# /' "$WORK/verify.out"

# the check is live: what it must catch, it catches
mkdir -p "$WORK/bad"
sed -e "s|^ExecStart=ripcord |ExecStart=$WORK/no-such-ripcord |" -e "s|^ExecStartPost=ripcord |ExecStartPost=$RIPCORD |" "$service" > "$WORK/bad/ripcord-drill.service"
if verify "$WORK/bad/ripcord-drill.service"; then
  not_ok "verify refuses a unit whose binary is missing" "$(cat "$WORK/verify.out")"
else ok "verify refuses a unit whose binary is missing"; fi
sed -e "s|^\(ExecStart\(Post\)\?\)=ripcord |\1=$RIPCORD |" -e 's/^ProtectSystem=/ProtectSytem=/' "$service" > "$WORK/bad/ripcord-drill.service"
verify "$WORK/bad/ripcord-drill.service"
check "and warns about a misspelt key" grep -q "ProtectSytem" "$WORK/verify.out"

# the service
check "is a oneshot" test "$(key "$service" Type)" = oneshot
# shellcheck disable=SC2016 # the literal ${RIPCORD_DIR}, which systemd expands
check "runs drill --due in \$RIPCORD_DIR" test "$(key "$service" ExecStart)" = 'ripcord -C ${RIPCORD_DIR} drill --due'
check "RIPCORD_DIR has a default" test "$(key "$service" Environment)" = "RIPCORD_DIR=/srv/app"
check "the file system is read-only" test "$(key "$service" ProtectSystem)" = strict
check "but RIPCORD_DIR's default" grep -qx "ReadWritePaths=/srv/app" "$service"
check "with a private /tmp for the scratch" test "$(key "$service" PrivateTmp)" = yes
check "and no new privileges" test "$(key "$service" NoNewPrivileges)" = yes

# the timer
cal=$(key "$timer" OnCalendar)
check "the timer runs daily" test "$cal" = daily
check "systemd-analyze calendar daily parses" systemd-analyze calendar daily
out=$(systemd-analyze calendar "$cal" 2>&1)
check "the timer's OnCalendar parses, as midnight" grep -q "Normalized form: \*-\*-\* 00:00:00" <<<"$out"
expect_exit 1 "a calendar that does not parse is refused" systemd-analyze calendar "dialy"
check "its RandomizedDelaySec parses" systemd-analyze timespan "$(key "$timer" RandomizedDelaySec)"
check "it catches up after downtime" test "$(key "$timer" Persistent)" = true
check "and starts ripcord-drill.service (no Unit=: the same name)" test -z "$(key "$timer" Unit)"

# the command line, run as systemd would: ${RIPCORD_DIR} replaced by one word
repo="$WORK/app dir"   # a space: ${RIPCORD_DIR} must stay one argument
mkdir -p "$repo" && cd "$repo" && git init -q .
printf '.ripcord/\n' > .gitignore
printf '[project]\nname = app\n\n[drill]\nmetrics_file = ripcord.prom\n' > ripcord.ini
echo hi > README && git add -A && git commit -qm one && rc -q cut --id v1 >/dev/null 2>&1
cd "$WORK" || exit 1
line=$(key "$WORK/units/ripcord-drill.service" ExecStart)
read -r -a argv <<<"$line"
# shellcheck disable=SC2016
for i in "${!argv[@]}"; do [ "${argv[i]}" = '${RIPCORD_DIR}' ] && argv[i]=$repo; done
expect_exit 0 "the unit's command drills the due release, from elsewhere" "${argv[@]}"
check "it drilled v1" grep -q "v1" "$WORK/last.out"
expect_exit 0 "run again, nothing is due" "${argv[@]}"
check "and says so" grep -q "no release is due" "$WORK/last.out"
# shellcheck disable=SC2016
check "after its drills, it runs migrate contract --due" test "$(key "$service" ExecStartPost)" = 'ripcord -C ${RIPCORD_DIR} migrate contract --due'
line=$(key "$WORK/units/ripcord-drill.service" ExecStartPost)
read -r -a argv <<<"$line"
# shellcheck disable=SC2016
for i in "${!argv[@]}"; do [ "${argv[i]}" = '${RIPCORD_DIR}' ] && argv[i]=$repo; done
expect_exit 0 "which, for a project without migrations or auto_contract, is not due (exit 0)" "${argv[@]}"
err_has "and says why" "ripcord: not due: [rollout] auto_contract is off"

done_testing

#!/bin/bash
# suite-install-deps.sh — scripts/install-deps waits for a held apt/dpkg lock instead of failing
# at once (issue #13, item 8: on a fresh machine unattended-upgrades held it and `make test`
# failed). Runs the script against stand-in apt-get/dpkg/dpkg-query/id commands in a temporary
# PATH (nothing is installed): one package reported missing, root, and a dpkg whose
# --add-architecture fails twice as if locked. Checks that apt-get gets DPkg::Lock::Timeout on
# both calls and that dpkg is retried until it succeeds, or given up after the timeout with a
# clear message. Ends with one line `install-deps: N passed, M failed`.
set -u
cd "$(dirname "$0")/.."
root=$PWD
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/camclass-install-deps-XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin"
log=$work/calls.log
# stand-ins: everything is logged; dpkg-query says libcmocka-dev is missing
cat >"$work/bin/dpkg-query" <<'EOS'
#!/bin/sh
case "$*" in *libcmocka-dev*) echo "unknown ok not-installed" ;; *) echo "install ok installed" ;; esac
EOS
cat >"$work/bin/apt-get" <<EOS
#!/bin/sh
echo "apt-get \$*" >>"$log"
EOS
cat >"$work/bin/dpkg" <<EOS
#!/bin/sh
echo "dpkg \$*" >>"$log"
case "\$1" in
--print-foreign-architectures) exit 0 ;;
--add-architecture)
	n=\$(grep -c -- '--add-architecture' "$log")
	[ "\$n" -gt "\${LOCKED_TIMES:-0}" ] && exit 0
	echo "dpkg: error: dpkg frontend lock was locked by another process" >&2
	exit 2 ;;
esac
EOS
printf '#!/bin/sh\necho 0\n' >"$work/bin/id"
printf '#!/bin/sh\nexit 0\n' >"$work/bin/sleep"    # no real waiting in the test
chmod +x "$work/bin"/*

run() { PATH="$work/bin:$PATH" "$root/scripts/install-deps" "$@" >"$work/out" 2>&1; }

: >"$log"
# the test group pulls in arm64 (dpkg --add-architecture) and asks for libcmocka-dev
if LOCKED_TIMES=2 run test; then
	ok "install-deps succeeds once the stand-in dpkg lock is released"
else
	bad "install-deps failed while the lock was held: $(cat "$work/out")"
fi
n_update=$(grep -c '^apt-get -o DPkg::Lock::Timeout=[0-9][0-9]* update' "$log")
n_install=$(grep -c '^apt-get -o DPkg::Lock::Timeout=[0-9][0-9]* install .*libcmocka-dev' "$log")
if [ "$n_update" = 1 ] && [ "$n_install" = 1 ]; then
	ok "apt-get update and install wait for the lock (DPkg::Lock::Timeout)"
else
	bad "apt-get calls without DPkg::Lock::Timeout: $(grep '^apt-get' "$log" | tr '\n' ';')"
fi
n_arch=$(grep -c -- '^dpkg --add-architecture arm64' "$log")
if [ "$n_arch" = 3 ]; then
	ok "dpkg --add-architecture retried while locked (3 tries)"
else
	bad "dpkg --add-architecture tried $n_arch times, want 3"
fi

: >"$log"
if LOCKED_TIMES=1000 INSTALL_DEPS_LOCK_TIMEOUT=20 run test; then
	bad "install-deps succeeded although dpkg stayed locked"
elif grep -q 'dpkg stayed locked for 20s' "$work/out"; then
	ok "gives up after INSTALL_DEPS_LOCK_TIMEOUT with a clear message"
else
	bad "no clear message when the lock is never released: $(cat "$work/out")"
fi

echo "install-deps: $pass passed, $fail failed"
[ "$fail" = 0 ]

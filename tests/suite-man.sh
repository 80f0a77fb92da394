#!/bin/bash
# suite-man.sh — the man pages (docs/man/*.scd, scdoc) render without warnings and stay true
# to the code: `man --warnings -l` prints nothing for each page; every long option of
# `camclassd --help`, every command of `camclass --help`, every option (long and short) of
# `camclass-mqtt --help` and `camclass-web --help`, and every [section] and key of the shipped
# etc/camclassd.ini appear in their page (the [mqtt] and [web] keys also in the page of the
# program that reads them); `make install DESTDIR=...` installs every page. A new option,
# command or key without a line in its page fails here, naming what is missing and where to
# add it.
# Ends with one line `man: N passed, M failed`.
set -u
cd "$(dirname "$0")/.."
B=${CAMCLASS_BUILD:-build}
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
finish() { echo "man: $pass passed, $fail failed"; [ "$fail" = 0 ]; exit $?; }

command -v scdoc >/dev/null && command -v man >/dev/null || scripts/install-deps package ||
	{ bad "scripts/install-deps package"; finish; }
make -s BUILD="$B" man "$B/camclassd" "$B/camclass" "$B/camclass-mqtt" "$B/camclass-web" ||
	{ bad "make man"; finish; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for src in docs/man/*.scd; do
	page=$B/man/$(basename "$src" .scd)
	# man writes groff's warnings to stderr; the rendered text must be there too
	if MANWIDTH=80 man --warnings -l "$page" >"$tmp/out" 2>"$tmp/err" && [ ! -s "$tmp/err" ] &&
		[ -s "$tmp/out" ]; then
		ok "$page renders without warnings ($(wc -l <"$tmp/out") lines)"
	else
		bad "$page: man --warnings:"; cat "$tmp/err"
	fi
done

# The rendered text of a page (hyphens and quotes as typed), for the checks below.
text() { MANWIDTH=200 man -l "$B/man/$1" 2>/dev/null | col -b | sed 's/‐/-/g'; }

missing=""
for o in $("$B/camclassd" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
	text camclassd.8 | grep -qE -- "^ +(-[a-z], )?$o( |\$)" || missing="$missing $o"
done
[ -z "$missing" ] && ok "camclassd(8) has every option of camclassd --help" ||
	bad "docs/man/camclassd.8.scd lacks:$missing"

missing=""
for c in $("$B/camclass" --help | sed -n 's/^  \([a-z][a-z-]*\)\( .*\)\{0,1\}$/\1/p; s/^  \([a-z]*\) | .*/\1/p' |
	sort -u) $("$B/camclass" --help | grep -o '^  [a-z]* | [a-z | ]*' | tr -d '|' ); do
	text camclass.1 | grep -qE -- "^ +$c( |\$)" || missing="$missing $c"  # an item of its own
done
[ -z "$missing" ] && ok "camclass(1) has every command of camclass --help" ||
	bad "docs/man/camclass.1.scd lacks:$missing"

missing=""
for s in $(grep -o '^\[[a-z_]*\]' etc/camclassd.ini); do
	text camclassd.ini.5 | grep -qF -- "$s" || missing="$missing $s"
done
for k in $(sed -n 's/^;\{0,1\}\([a-z_]*\)\(\.[a-z_]*\)\{0,1\} =.*/\1/p' etc/camclassd.ini | sort -u); do
	# an item of its own: "key = ...", "a, key = ..." or "control.name = ..."
	text camclassd.ini.5 | grep -qE -- "^ +([a-z_]+, )*$k(\.[a-z_]+)? ?(=|,)" || missing="$missing $k"
done
[ -z "$missing" ] && ok "camclassd.ini(5) has every section and key of etc/camclassd.ini" ||
	bad "docs/man/camclassd.ini.5.scd lacks:$missing"

# camclass-mqtt(1), camclass-web(1): every option of --help ("-c", "--config", ...) is an item
# of its own ("-c, --config FILE", "--socket PATH", "-v"), and every key of the section the
# program reads is named in the page.
section_keys() {  # the keys of [$1] in etc/camclassd.ini, commented-out ones too (up to the
	# next section header, a commented-out one such as ";[teach]" included)
	awk -v s="[$1]" '/^;?\[[a-z_]*\]/ { h = $1; sub(/^;/, "", h); on = (h == s); next } on' etc/camclassd.ini |
		sed -n 's/^;\{0,1\}\([a-z_][a-z_]*\) =.*/\1/p' | sort -u
}
for prog in camclass-mqtt:mqtt camclass-web:web; do
	bin=${prog%%:*} sec=${prog##*:}
	missing=""
	for o in $("$B/$bin" --help | grep -oE -- '(^|[ [])--?[a-z][a-z-]*' | tr -d ' [' | sort -u); do
		text "$bin.1" | grep -qE -- "^ +(-[a-z], )?$o(,| |\$)" || missing="$missing $o"
	done
	[ -z "$missing" ] && ok "$bin(1) has every option of $bin --help" ||
		bad "docs/man/$bin.1.scd lacks:$missing"
	missing=""
	keys=$(section_keys "$sec")
	[ -n "$keys" ] || missing=" (no [$sec] keys found in etc/camclassd.ini)"
	for k in $keys; do
		text "$bin.1" | grep -qw -- "$k" || missing="$missing $k"
	done
	[ -z "$missing" ] && ok "$bin(1) names every [$sec] key of etc/camclassd.ini" ||
		bad "docs/man/$bin.1.scd lacks:$missing"
done

# make install puts every page where man finds it
inst=$tmp/inst
if make -s BUILD="$B" install DESTDIR="$inst" PREFIX=/usr >"$tmp/install.log" 2>&1; then
	missing=""
	for src in docs/man/*.scd; do
		page=$(basename "$src" .scd)
		[ -s "$inst/usr/share/man/man${page##*.}/$page" ] || missing="$missing $page"
	done
	[ -z "$missing" ] && ok "make install DESTDIR installs every page (usr/share/man/manN/)" ||
		bad "make install did not install:$missing"
else
	cat "$tmp/install.log"; bad "make install DESTDIR=$inst"
fi
finish

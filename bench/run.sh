#!/usr/bin/env bash
# Benchmarks of mailsec_exporter (issue 8). Installs what it is missing (Debian 12 packages),
# builds Release into build-bench/, starts everything on loopback (127.100.0.0/16 and up: a
# private Postfix, Debian's prometheus-blackbox-exporter, fake STARTTLS fleets), runs the
# scenarios, prints one table, and stops everything it started (by pid file, on any exit).
#
#   bench/run.sh            full run: 1,000 and 10,000 endpoints at concurrency 256 and 1024
#   bench/run.sh --quick    1,000 endpoints only, fewer probes and scrapes (a few minutes)
#   bench/run.sh --only probe,fleet,slow,scrape   a subset of the scenarios
#   bench/run.sh --sizes 10000 --concurrency 256   fleet sizes and concurrencies to run
#   bench/run.sh --only first --sizes 10000 --concurrency 256 --first-seconds 300
#                           RSS and progress over the first 5 minutes of a 10,000 fleet
#   bench/run.sh --no-build reuse build-bench/ as it is
#   bench/run.sh --fleet-nice 0   the fake fleet at the exporter's priority (default: nice 10)
#
# Figures and how they are taken: docs/benchmarks.md. Must run as root (Postfix's master).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

BUILD=1
ARGS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --no-build) BUILD=0 ;;
    --quick) ARGS+=(--quick) ;;
    --only) ARGS+=(--only "$2"); shift ;;
    --sizes) ARGS+=(--sizes "$2"); shift ;;
    --concurrency) ARGS+=(--concurrency "$2"); shift ;;
    --first-seconds) ARGS+=(--first-seconds "$2"); shift ;;
    --fleet-nice) ARGS+=(--fleet-nice "$2"); shift ;;
    --keep) ARGS+=(--keep) ;;
    -h|--help) sed -n 2,17p "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

if [[ $(id -u) -ne 0 ]]; then
  echo "bench/run.sh starts a private Postfix master and must run as root" >&2
  exit 2
fi

# Bench-only packages are installed here, never by scripts/bootstrap.sh (CI stays lean).
missing=()
command -v prometheus-blackbox-exporter >/dev/null || missing+=(prometheus-blackbox-exporter)
command -v curl >/dev/null || missing+=(curl)
command -v python3 >/dev/null || missing+=(python3)
command -v openssl >/dev/null || missing+=(openssl)
[[ -x /usr/lib/postfix/sbin/master ]] || missing+=(postfix)
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  timeout 600 apt-get update -qq
  timeout 900 apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ $BUILD -eq 1 ]]; then
  cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DMAILSEC_BENCH=ON >/dev/null
  cmake --build build-bench -j 2 --target mailsec_exporter fake_smtp
fi
for b in build-bench/mailsec_exporter build-bench/bench/fake_smtp; do
  [[ -x $b ]] || { echo "missing $b (run without --no-build)" >&2; exit 1; }
done

# Many endpoints: one listener per fake endpoint, one socket per probe in flight.
ulimit -n "$(ulimit -Hn)"

WORK=$(mktemp -d /tmp/mailsec-bench-XXXXXX)
chmod 755 "$WORK"
PIDS="$WORK/pids"
mkdir -p "$PIDS"

# Stops what this script started: every pid file under $PIDS, TERM then KILL, bounded.
cleanup() {
  local rc=$?
  set +e
  for f in "$PIDS"/*.pid; do
    [[ -e $f ]] || continue
    local pid
    pid=$(cat "$f")
    [[ $pid =~ ^[0-9]+$ ]] && kill -TERM "$pid" 2>/dev/null
  done
  for _ in $(seq 1 50); do
    local alive=0
    for f in "$PIDS"/*.pid; do
      [[ -e $f ]] || continue
      kill -0 "$(cat "$f")" 2>/dev/null && alive=1
    done
    [[ $alive -eq 0 ]] && break
    sleep 0.2
  done
  for f in "$PIDS"/*.pid; do
    [[ -e $f ]] || continue
    kill -KILL "$(cat "$f")" 2>/dev/null
  done
  if [[ ${KEEP:-0} -eq 0 && $rc -eq 0 ]]; then rm -rf "$WORK"; else echo "bench files kept in $WORK"; fi
  exit $rc
}
trap cleanup EXIT INT TERM
KEEP=0
for a in "${ARGS[@]+"${ARGS[@]}"}"; do [[ $a == --keep ]] && KEEP=1; done

# --- Certificates: a P-256 CA and a P-256 leaf it signed (Postfix and the fake fleets) --------
CERTS="$WORK/certs"
mkdir -p "$CERTS"
(
  cd "$CERTS"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
    -out ca.pem -days 2 -subj "/CN=mailsec bench CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key \
    -out leaf.csr -subj "/CN=mx.bench.test" 2>/dev/null
  printf 'subjectAltName=DNS:mx.bench.test,DNS:fake.bench.test,IP:127.100.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n' >leaf.ext
  openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
    -extfile leaf.ext -out leaf.pem 2>/dev/null
  chmod 644 ./*.pem ./*.key
)

# --- A private Postfix on 127.100.0.1:25 (as tests/integration/fleet.cc does it) --------------
PF="$WORK/postfix"
mkdir -p "$PF/etc" "$PF/queue"
PF_UID=$(id -u postfix)
PD_GID=$(getent group postdrop | cut -d: -f3)
for q in active:0700:p bounce:0700:p corrupt:0700:p defer:0700:p deferred:0700:p flush:0700:p \
         hold:0700:p incoming:0700:p private:0700:p saved:0700:p trace:0700:p \
         maildrop:0730:pd public:0710:pd pid:0755:r; do
  IFS=: read -r name mode owner <<<"$q"
  mkdir -m "$mode" "$PF/queue/$name"
  case $owner in
    p) chown "$PF_UID:0" "$PF/queue/$name" ;;
    pd) chown "$PF_UID:$PD_GID" "$PF/queue/$name" ;;
    r) chown 0:0 "$PF/queue/$name" ;;
  esac
done
mkdir -m 0700 "$PF/data" && chown "$PF_UID:0" "$PF/data"
cat >"$PF/etc/main.cf" <<EOF
# Generated by bench/run.sh
compatibility_level = 3.6
queue_directory = $PF/queue
data_directory = $PF/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.bench.test
mydestination =
relay_domains =
mynetworks = 127.0.0.0/8
inet_interfaces = loopback-only
inet_protocols = ipv4
smtp_bind_address = 127.100.0.1
default_transport = error:the bench does not deliver mail
relay_transport = error:the bench does not deliver mail
smtpd_peername_lookup = no
maillog_file = $PF/postfix.log
maillog_file_prefixes = $PF
biff = no
alias_maps =
alias_database =
local_recipient_maps =
smtpd_tls_security_level = may
smtpd_tls_cert_file = $CERTS/leaf.pem
smtpd_tls_key_file = $CERTS/leaf.key
smtpd_tls_session_cache_database =
smtpd_client_connection_count_limit = 0
EOF
cat >"$PF/etc/master.cf" <<'EOF'
# Generated by bench/run.sh. No chroot.
127.100.0.1:25 inet n - n - 20 smtpd
postlog unix-dgram n - n - 1 postlogd
tlsmgr unix - - n 1000? 1 tlsmgr
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
proxywrite unix - - n - 1 proxymap
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
EOF
touch -d '1 minute ago' "$PF/etc/main.cf" "$PF/etc/master.cf"
DAEMONS=$(postconf -c "$PF/etc" -h daemon_directory 2>/dev/null || echo /usr/lib/postfix/sbin)
setsid "$DAEMONS/master" -c "$PF/etc" -d >"$PF/master.out" 2>&1 &
echo $! >"$PIDS/postfix-master.pid"

ok=0
for _ in $(seq 1 100); do  # at most 10 s
  if timeout 2 bash -c 'exec 3<>/dev/tcp/127.100.0.1/25; head -c 4 <&3' 2>/dev/null | grep -q '^220'; then
    ok=1
    break
  fi
  sleep 0.1
done
if [[ $ok -ne 1 ]]; then
  echo "Postfix did not answer on 127.100.0.1:25:" >&2
  tail -20 "$PF/master.out" "$PF/postfix.log" >&2 2>/dev/null || true
  exit 1
fi

python3 "$ROOT/bench/bench.py" --root "$ROOT" --work "$WORK" --pids "$PIDS" \
  "${ARGS[@]+"${ARGS[@]}"}"

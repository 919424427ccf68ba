#!/usr/bin/env bash
# Installs every Debian 12 package that building, running and testing mailsec_exporter need.
# Idempotent and non-interactive; installs only what is missing; leaves no mail/DNS/web service
# enabled or running (the test suite starts its own instances on 127.0.0.0/8).
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config ninja-build clang libclang-rt-dev
  libssl-dev openssl ca-certificates libcrypt-dev zlib1g-dev
  prometheus-cpp-dev libcpp-httplib-dev libc-ares-dev libtomlplusplus-dev
  libgtest-dev libgmock-dev libasio-dev libcli11-dev libspdlog-dev nlohmann-json3-dev
  postfix dovecot-imapd dovecot-pop3d dovecot-managesieved nsd unbound nginx-light ldnsutils
  bind9-dnsutils testssl.sh
  curl procps python3
  prometheus
  yamllint python3-yaml docker-compose
)
# kubectl renders deploy/k8s (kustomize). Debian's is in kubernetes-client, whose /usr/bin/kubectl
# clashes with other kubectl packages (Google's, Kubernetes'): install it only when no kubectl is
# there, and use the one that is otherwise.
if ! command -v kubectl >/dev/null 2>&1; then
  PACKAGES+=(kubernetes-client)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "bootstrap: need root to install: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # Postfix asks questions on install; answer them once, and keep it local-only.
  echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
  echo "postfix postfix/mailname string localhost" | debconf-set-selections
  # Never let package installation start services (no init in containers, and the tests run
  # their own instances).
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    created_policy=1
  fi
  trap '[[ $created_policy == 1 ]] && rm -f "$policy"' EXIT
  echo "bootstrap: installing ${missing[*]}"
  for attempt in 1 2 3; do
    if apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"; then
      break
    fi
    if [[ $attempt == 3 ]]; then
      echo "bootstrap: apt-get failed" >&2
      exit 1
    fi
    sleep 5
  done
  # No service stays enabled: the exporter's tests start their own.
  if command -v systemctl >/dev/null 2>&1; then
    for s in postfix dovecot nsd unbound nginx prometheus; do
      systemctl disable --now "$s" >/dev/null 2>&1 || true
    done
  fi
fi
exit 0

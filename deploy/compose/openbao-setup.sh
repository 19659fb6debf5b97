#!/bin/sh
# The single-host stack's OpenBao, after each start (docker-compose.yml, openbao-setup):
# initialise it the first time (one unseal key, kept in the openbao-init volume), unseal it,
# enable the transit engine Bursa seals secrets with, and make Bursa's token with the id
# BURSA_VAULT_TOKEN, allowed the transit engine only. Safe to run again.
set -eu
init=${BAO_INIT_FILE:-/openbao/init/init.json}

status() {  # 0 unsealed, 2 sealed, 1 unreachable
  if bao status >/dev/null 2>&1; then echo 0; else echo $?; fi
}

tries=0
while [ "$(status)" = 1 ]; do
  tries=$((tries + 1))
  [ "$tries" -le 60 ] || { echo "OpenBao does not answer at $BAO_ADDR" >&2; exit 1; }
  sleep 1
done

if bao status -format=json | grep -q '"initialized": *false'; then
  echo "initialising OpenBao (one unseal key, in the openbao-init volume)…" >&2
  umask 077
  bao operator init -key-shares=1 -key-threshold=1 -format=json >"$init.new"
  mv "$init.new" "$init"
fi
[ -f "$init" ] || { echo "OpenBao is initialised but $init is missing" >&2; exit 1; }

# The JSON's first unseal key and the root token, without jq (the image has none).
unseal_key=$(tr -d ' \n' <"$init" | sed -n 's/.*"unseal_keys_b64":\["\([^"]*\)".*/\1/p')
root_token=$(tr -d ' \n' <"$init" | sed -n 's/.*"root_token":"\([^"]*\)".*/\1/p')
if [ "$(status)" = 2 ]; then
  echo "unsealing OpenBao…" >&2
  bao operator unseal "$unseal_key" >/dev/null
fi

export BAO_TOKEN="$root_token"
if ! bao secrets list -format=json | grep -q '"transit/"'; then
  bao secrets enable transit >/dev/null
fi
bao policy write bursa-transit - >/dev/null <<'POLICY'
path "transit/keys/*" { capabilities = ["create", "read", "update"] }
path "transit/encrypt/*" { capabilities = ["update"] }
path "transit/decrypt/*" { capabilities = ["update"] }
path "transit/rewrap/*" { capabilities = ["update"] }
path "auth/token/lookup-self" { capabilities = ["read"] }
POLICY
if ! bao token lookup "$BURSA_VAULT_TOKEN" >/dev/null 2>&1; then
  bao token create -id="$BURSA_VAULT_TOKEN" -policy=bursa-transit -no-default-policy \
    -orphan -display-name=bursa >/dev/null
fi
echo "OpenBao is unsealed; transit and Bursa's token are ready" >&2

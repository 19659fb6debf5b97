# bursa-standalone: `bursa up`, every part in one process: everything.
# Rendered by `bursa secrets policies` from bursa/secrets/policies.py: edit that.

path "transit/encrypt/bursa-api-key" {
  capabilities = ["update"]
}

path "transit/decrypt/bursa-api-key" {
  capabilities = ["update"]
}

path "transit/encrypt/bursa-pii" {
  capabilities = ["update"]
}

path "transit/decrypt/bursa-pii" {
  capabilities = ["update"]
}

path "transit/encrypt/bursa-token-keys" {
  capabilities = ["update"]
}

path "transit/decrypt/bursa-token-keys" {
  capabilities = ["update"]
}

path "transit/encrypt/bursa-totp" {
  capabilities = ["update"]
}

path "transit/decrypt/bursa-totp" {
  capabilities = ["update"]
}

path "transit/encrypt/custody-beneficiary" {
  capabilities = ["update"]
}

path "transit/decrypt/custody-beneficiary" {
  capabilities = ["update"]
}

path "transit/encrypt/custody-node" {
  capabilities = ["update"]
}

path "transit/decrypt/custody-node" {
  capabilities = ["update"]
}

path "transit/encrypt/custody-wallet" {
  capabilities = ["update"]
}

path "transit/decrypt/custody-wallet" {
  capabilities = ["update"]
}

path "auth/token/lookup-self" {
  capabilities = ["read"]
}

path "auth/token/renew-self" {
  capabilities = ["update"]
}

path "auth/token/revoke-self" {
  capabilities = ["update"]
}

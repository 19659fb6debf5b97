# bursa-sender: the withdrawal sender: signs with hot wallets' keys.
# Rendered by `bursa secrets policies` from bursa/secrets/policies.py: edit that.

path "transit/decrypt/custody-node" {
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

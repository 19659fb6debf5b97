# The audit device Bursa requires (`bursa secrets setup` refuses to go on without one).
# OpenBao accepts audit devices only from its server configuration, not through its API:
#   bao server -config=/etc/openbao/openbao.hcl -config=/etc/openbao/audit.hcl
# Every request and response is recorded, each secret value in it (plaintexts,
# ciphertexts, tokens, secret ids, accessors) replaced by its HMAC-SHA256: the log shows
# who did what with which key, never the secret. Keep log_raw off. Rotate the file with
# logrotate and send SIGHUP to the server so it reopens it.
audit "file" "bursa-audit" {
  description = "Bursa: every use of the key store"
  options {
    file_path = "/var/log/openbao/audit.log"
    mode      = "0600"
  }
}

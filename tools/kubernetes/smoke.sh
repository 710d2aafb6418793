#!/usr/bin/env bash
# Smoke test of a local control plane: etcd + kube-apiserver (+ kube-controller-manager)
# as plain processes on loopback, with a throwaway CA, serving cert, service-account
# signing key and an admin client cert. Waits for /readyz, does one authenticated
# request, then stops everything. No kubelet, no container runtime: pods never run.
#
# Usage: tools/kubernetes/smoke.sh            (binaries from `node tools/run.mjs --path`)
#   KEEP=1   keep the work dir (certs, kubeconfig, logs) for inspection
#   KCM=0    skip kube-controller-manager
#   ESO=1    also apply the ESO CRD bundle, run the external-secrets controller as a local
#            process and check that it reconciles a Vault SecretStore (server 127.0.0.1:1,
#            nothing listening: the store must turn Ready=False with a Vault error)
# Base of the later end-to-end control plane: the flags below are the ones that worked.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin() { node "$root/tools/run.mjs" --path "$1" || { echo "smoke: $1 not built (run: npm run tools -- etcd kubernetes)" >&2; exit 1; }; }
ETCD=$(bin etcd)
APISERVER=$(bin kube-apiserver)
KCM_BIN=""
if [ "${KCM:-1}" != 0 ]; then KCM_BIN=$(bin kube-controller-manager); fi
ESO_BIN="" ESO_CRDS=""
if [ "${ESO:-0}" = 1 ]; then ESO_BIN=$(bin external-secrets); ESO_CRDS=$(bin external-secrets-crds); fi

work=$(mktemp -d "${TMPDIR:-/tmp}/k8s-smoke.XXXXXX")
pids=()
cleanup() {
  local rc=$? i
  # Stop in reverse start order (controller-manager, apiserver, etcd) so none
  # of them logs errors about the one below it going away first.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  if [ $rc -ne 0 ]; then
    for f in "$work"/*.log; do [ -f "$f" ] && { echo "--- tail $f" >&2; tail -n 30 "$f" >&2; }; done
  fi
  if [ "${KEEP:-0}" = 1 ]; then echo "smoke: kept $work" >&2; else rm -rf "$work"; fi
  exit $rc
}
trap cleanup EXIT INT TERM

# Free loopback ports chosen by the kernel (several runs can coexist).
read -r ETCD_PORT PEER_PORT API_PORT KCM_PORT ESO_PORT < <(python3 -c '
import socket
ss=[socket.socket() for _ in range(5)]
for s in ss: s.bind(("127.0.0.1",0))
print(*[s.getsockname()[1] for s in ss])
for s in ss: s.close()')

# --- PKI (openssl): CA, apiserver serving cert for 127.0.0.1/localhost, admin client cert, SA key pair.
cd "$work"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=smoke-ca" \
  -keyout ca.key -out ca.crt 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" \
  -keyout apiserver.key -out apiserver.csr 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n' > apiserver.ext
openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 \
  -extfile apiserver.ext -out apiserver.crt 2>/dev/null
# O=system:masters: bound to cluster-admin by the bootstrap RBAC policy.
openssl req -newkey rsa:2048 -nodes -subj "/O=system:masters/CN=smoke-admin" \
  -keyout admin.key -out admin.csr 2>/dev/null
printf 'extendedKeyUsage=clientAuth\n' > admin.ext
openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 \
  -extfile admin.ext -out admin.crt 2>/dev/null
openssl genrsa -out sa.key 2048 2>/dev/null
openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null

server="https://127.0.0.1:$API_PORT"
cat > kubeconfig <<EOF
apiVersion: v1
kind: Config
clusters:
- name: smoke
  cluster: {server: "$server", certificate-authority: "$work/ca.crt"}
users:
- name: admin
  user: {client-certificate: "$work/admin.crt", client-key: "$work/admin.key"}
contexts:
- name: smoke
  context: {cluster: smoke, user: admin}
current-context: smoke
EOF

# --- etcd: single member, loopback only, no fsync (throwaway data).
"$ETCD" --name smoke --data-dir "$work/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$PEER_PORT" \
  --initial-cluster "smoke=http://127.0.0.1:$PEER_PORT" \
  --unsafe-no-fsync --log-level warn >etcd.log 2>&1 &
pids+=($!)

# --- kube-apiserver. --endpoint-reconciler-type none: the "kubernetes" Endpoints
# object can't hold a loopback address (validation error every 10s otherwise);
# the Service still exists, nothing in-cluster runs to use it.
"$APISERVER" \
  --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
  --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$API_PORT" \
  --tls-cert-file apiserver.crt --tls-private-key-file apiserver.key \
  --client-ca-file ca.crt \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-account-key-file sa.pub --service-account-signing-key-file sa.key \
  --service-cluster-ip-range 10.0.0.0/24 \
  --endpoint-reconciler-type none \
  --authorization-mode Node,RBAC \
  --allow-privileged=true \
  --profiling=false >apiserver.log 2>&1 &
pids+=($!)

curl_admin() { curl -sS --max-time 5 --cacert ca.crt --cert admin.crt --key admin.key "$@"; }
wait_for() { # name url seconds [curl args...]
  local name=$1 url=$2 secs=$3 i; shift 3
  for ((i = 0; i < secs * 2; i++)); do
    if [ "$(curl -sS --max-time 2 -o /dev/null -w '%{http_code}' "$@" "$url" 2>/dev/null)" = 200 ]; then
      echo "smoke: $name ready after $((i / 2))s"; return 0
    fi
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || { echo "smoke: a process exited while waiting for $name" >&2; return 1; }; done
    sleep 0.5
  done
  echo "smoke: $name not ready after ${secs}s" >&2; return 1
}

t0=$(date +%s)
wait_for kube-apiserver "$server/readyz" 120 --cacert ca.crt --cert admin.crt --key admin.key
curl_admin "$server/version" | tr -d '\n '; echo
curl_admin "$server/api/v1/namespaces/default" -o /dev/null -w 'smoke: GET namespace default -> %{http_code}\n'

# No --authentication/authorization-kubeconfig: delegated authn would read a
# requestheader CA the apiserver doesn't have (error loop); /healthz is always
# allowed. --flex-volume-plugin-dir: the default is created under /usr/libexec.
if [ -n "$KCM_BIN" ]; then
  "$KCM_BIN" \
    --kubeconfig kubeconfig \
    --bind-address 127.0.0.1 --secure-port "$KCM_PORT" \
    --service-account-private-key-file sa.key --root-ca-file ca.crt \
    --cluster-signing-cert-file ca.crt --cluster-signing-key-file ca.key \
    --use-service-account-credentials=true --leader-elect=false \
    --flex-volume-plugin-dir "$work/flexvolume" \
    --controllers '*,-nodeipam,-nodelifecycle,-cloud-node-lifecycle,-service-lb-controller,-node-route-controller' \
    >kcm.log 2>&1 &
  pids+=($!)
  wait_for kube-controller-manager "https://127.0.0.1:$KCM_PORT/healthz" 60 --cacert ca.crt -k
  # The serviceaccount controller is running once "default" has its ServiceAccount.
  for ((i = 0; i < 60; i++)); do
    [ "$(curl_admin -o /dev/null -w '%{http_code}' "$server/api/v1/namespaces/default/serviceaccounts/default")" = 200 ] && break
    sleep 0.5
  done
  curl_admin -o /dev/null -w 'smoke: GET serviceaccount default/default -> %{http_code}\n' "$server/api/v1/namespaces/default/serviceaccounts/default"
fi
if [ -n "$ESO_BIN" ]; then
  # CRDs: the bundle is multi-document YAML; the apiserver takes one JSON object per POST.
  python3 - "$ESO_CRDS/bundle.yaml" <<'PY'
import json, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
for i, d in enumerate(docs):
    json.dump(d, open(f"crd-{i:02d}.json", "w"))
PY
  for f in crd-*.json; do
    code=$(curl_admin -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
      --data-binary "@$f" "$server/apis/apiextensions.k8s.io/v1/customresourcedefinitions")
    [ "$code" = 201 ] || { echo "smoke: POST $f -> $code" >&2; exit 1; }
  done
  echo "smoke: $(ls crd-*.json | wc -l) ESO CRDs created"
  wait_for external-secrets.io/v1 "$server/apis/external-secrets.io/v1/secretstores" 60 --cacert ca.crt --cert admin.crt --key admin.key

  KUBECONFIG="$work/kubeconfig" "$ESO_BIN" --metrics-addr "127.0.0.1:$ESO_PORT" >eso.log 2>&1 &
  pids+=($!)
  wait_for external-secrets "http://127.0.0.1:$ESO_PORT/metrics" 60

  post() { curl_admin -o /dev/null -w "smoke: POST $1 -> %{http_code}\n" -X POST -H 'Content-Type: application/json' --data-binary "$2" "$server$1"; }
  post /api/v1/namespaces/default/secrets \
    '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"smoke-vault-token"},"stringData":{"token":"not-a-token"}}'
  post /apis/external-secrets.io/v1/namespaces/default/secretstores \
    '{"apiVersion":"external-secrets.io/v1","kind":"SecretStore","metadata":{"name":"smoke-vault"},"spec":{"provider":{"vault":{"server":"http://127.0.0.1:1","path":"secret","version":"v2","auth":{"tokenSecretRef":{"name":"smoke-vault-token","key":"token"}}}}}}'
  cond=""
  for ((i = 0; i < 120; i++)); do
    cond=$(curl_admin "$server/apis/external-secrets.io/v1/namespaces/default/secretstores/smoke-vault" |
      python3 -c 'import json,sys; c=json.load(sys.stdin).get("status",{}).get("conditions",[]); print(json.dumps(c[0]) if c else "")')
    [ -n "$cond" ] && break
    sleep 0.5
  done
  [ -n "$cond" ] || { echo "smoke: SecretStore smoke-vault got no status from the controller" >&2; exit 1; }
  echo "smoke: SecretStore smoke-vault status: $cond"
fi
echo "smoke: OK in $(($(date +%s) - t0))s (work dir $work)"

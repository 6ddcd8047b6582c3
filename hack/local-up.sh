#!/usr/bin/env bash
# Brings up a local control plane on loopback: a real etcd and our kube-apiserver, writes a
# kubeconfig, creates the example workload with kubectl, then waits. Ctrl-C stops both.
# Needs Debian's etcd-server (installed here if missing) and kubectl on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v etcd >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server protobuf-compiler >/dev/null
fi
cargo build --release -p apiserver --bin kube-apiserver

out="$PWD/_output/local"
rm -rf "$out" && mkdir -p "$out"
etcd --data-dir "$out/etcd" \
  --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster default=http://127.0.0.1:2380 --log-level error >"$out/etcd.log" 2>&1 &
etcd_pid=$!
target/release/kube-apiserver --etcd-servers=http://127.0.0.1:2379 --bind-address=127.0.0.1 \
  --secure-port=6443 --cert-dir="$out/certs" >"$out/apiserver.log" 2>&1 &
api_pid=$!
trap 'kill $api_pid $etcd_pid 2>/dev/null; wait 2>/dev/null' EXIT INT TERM

cat >"$out/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: "https://127.0.0.1:6443", certificate-authority: "$out/certs/apiserver.crt"}
users:
- name: admin
  user: {token: local-admin}
contexts:
- name: local
  context: {cluster: local, user: admin}
current-context: local
KC
export KUBECONFIG="$out/kubeconfig"
for _ in $(seq 1 100); do
  kubectl get --raw /readyz >/dev/null 2>&1 && break
  kill -0 $api_pid 2>/dev/null || { cat "$out/apiserver.log"; exit 1; }
  sleep 0.2
done
kubectl apply -f manifests/examples/hello.yaml
kubectl get all,configmaps -n hello
echo
echo "Cluster is up. In another shell: export KUBECONFIG=$out/kubeconfig; kubectl get ns"
echo "Logs: $out/apiserver.log. Ctrl-C stops etcd and the apiserver."
wait $api_pid

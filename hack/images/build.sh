#!/usr/bin/env bash
# Builds the cluster's two images from local files only, as OCI image archives
# (`oci-archive:` for skopeo, `ctr images import` for containerd):
#   pause.tar    the pod sandbox image: one static binary built from pause.c with gcc -static
#   busybox.tar  Debian's static /bin/busybox (package busybox-static) with its applet links
# Usage: hack/images/build.sh [OUT_DIR]   (default _output/images; prints OUT_DIR)
# Cached: the archives are rebuilt only when an input (this script, pause.c, the busybox
# binary, gcc's version) changes. The archives are reproducible (fixed times and owners), so
# an image's digest changes only with its content.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../../_output/images}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

command -v gcc >/dev/null || { echo "images: gcc is missing (apt-get install gcc libc6-dev)" >&2; exit 1; }
busybox=/bin/busybox
[ -x "$busybox" ] && "$busybox" --list-full >/dev/null 2>&1 ||
  { echo "images: $busybox is missing or not a full busybox (apt-get install busybox-static)" >&2; exit 1; }
command -v sha256sum >/dev/null && command -v gzip >/dev/null && command -v tar >/dev/null

case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  aarch64) arch=arm64 ;;
  *) arch="$(uname -m)" ;;
esac

# Tests build in parallel: one build at a time per output folder.
exec 9>"$out/.lock"
flock 9

stamp="$out/inputs.sha256"
inputs="$( { sha256sum "$here/build.sh" "$here/pause.c" "$busybox"; gcc --version | head -1; echo "$arch"; } | sha256sum | cut -d' ' -f1)"
if [ -f "$out/pause.tar" ] && [ -f "$out/busybox.tar" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$inputs" ]; then
  echo "$out"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# oci_image NAME ROOTFS CONFIG_JSON_FRAGMENT: writes $out/NAME.tar, an OCI image layout with
# one gzip layer made of ROOTFS, tarred.
oci_image() {
  local name="$1" rootfs="$2" cfg="$3"
  local d="$work/$name-layout"
  mkdir -p "$d/blobs/sha256"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=posix \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    -C "$rootfs" -cf "$work/$name-layer.tar" .
  local diff_id; diff_id="$(sha256sum "$work/$name-layer.tar" | cut -d' ' -f1)"
  gzip -n -9 -c "$work/$name-layer.tar" >"$work/$name-layer.tgz"
  local layer; layer="$(sha256sum "$work/$name-layer.tgz" | cut -d' ' -f1)"
  local layer_size; layer_size="$(stat -c %s "$work/$name-layer.tgz")"
  mv "$work/$name-layer.tgz" "$d/blobs/sha256/$layer"
  printf '{"architecture":"%s","os":"linux","created":"1970-01-01T00:00:00Z","config":%s,"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"hack/images/build.sh"}]}' \
    "$arch" "$cfg" "$diff_id" >"$work/config.json"
  local config; config="$(sha256sum "$work/config.json" | cut -d' ' -f1)"
  local config_size; config_size="$(stat -c %s "$work/config.json")"
  mv "$work/config.json" "$d/blobs/sha256/$config"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
    "$config" "$config_size" "$layer" "$layer_size" >"$work/manifest.json"
  local manifest; manifest="$(sha256sum "$work/manifest.json" | cut -d' ' -f1)"
  local manifest_size; manifest_size="$(stat -c %s "$work/manifest.json")"
  mv "$work/manifest.json" "$d/blobs/sha256/$manifest"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"%s","os":"linux"}}]}' \
    "$manifest" "$manifest_size" "$arch" >"$d/index.json"
  printf '{"imageLayoutVersion":"1.0.0"}' >"$d/oci-layout"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$d" -cf "$out/$name.tar.new" .
  mv "$out/$name.tar.new" "$out/$name.tar"
}

# pause: one static binary, run as nobody would be nicer but upstream's pause runs as root
# with no capabilities needed; containerd's CRI sets the user from the pod's securityContext.
mkdir -p "$work/pause/rootfs"
gcc -static -O2 -s -o "$work/pause/rootfs/pause" "$here/pause.c"
oci_image pause "$work/pause/rootfs" '{"Entrypoint":["/pause"],"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}'

# busybox: the static binary at /bin/busybox and a symbolic link per applet, as upstream's
# busybox image has them, plus the few files programs expect.
r="$work/busybox/rootfs"
mkdir -p "$r/bin" "$r/etc" "$r/tmp" "$r/root" "$r/var/www" "$r/home"
chmod 1777 "$r/tmp"
cp "$busybox" "$r/bin/busybox"
chmod 0755 "$r/bin/busybox"
"$busybox" --list-full | while read -r applet; do
  [ "$applet" = bin/busybox ] && continue
  mkdir -p "$r/$(dirname "$applet")"
  ln -sf /bin/busybox "$r/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' >"$r/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
oci_image busybox "$r" '{"Cmd":["sh"],"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}'

echo "$inputs" >"$stamp"
echo "$out"

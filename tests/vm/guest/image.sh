# Container images for scripts that run inside the test VM (busybox sh), made from the
# guest's own busybox: no registry, no network, no umoci.
# Source with: . "$HUSK_VM_LIB/image.sh"

# oci_busybox_layout DIR TAG: an OCI image layout in DIR (made afresh) holding one image,
# tagged TAG, whose one uncompressed layer is busybox with a link for every applet in
# /bin. Import it with `husk image import --name busybox:TAG DIR`. Returns non-zero when a
# step fails.
oci_busybox_layout () {
  _dir=$1 _tag=$2
  _bb=
  for _p in /usr/bin/busybox /bin/busybox; do [ -x "$_p" ] && [ ! -L "$_p" ] && _bb=$_p; done
  [ -n "$_bb" ] || { echo "oci_busybox_layout: no busybox binary" >&2; return 1; }
  rm -rf "$_dir" "$_dir.rootfs" &&
  mkdir -p "$_dir/blobs/sha256" "$_dir.rootfs/bin" "$_dir.rootfs/tmp" "$_dir.rootfs/etc" || return 1
  cp "$_bb" "$_dir.rootfs/bin/busybox" || return 1
  for _a in $("$_bb" --list); do
    [ "$_a" = busybox ] || ln -s busybox "$_dir.rootfs/bin/$_a"
  done
  echo "root:x:0:0:root:/root:/bin/sh" > "$_dir.rootfs/etc/passwd"
  echo "root:x:0:" > "$_dir.rootfs/etc/group"
  (cd "$_dir.rootfs" && tar -cf "$_dir/layer.tar" .) || return 1
  rm -rf "$_dir.rootfs"
  _layer=$(_oci_blob "$_dir" "$_dir/layer.tar") || return 1
  printf '%s' "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"PATH=/bin\"],\"Cmd\":[\"sh\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:${_layer% *}\"]}}" > "$_dir/config.json"
  _config=$(_oci_blob "$_dir" "$_dir/config.json") || return 1
  printf '%s' "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:${_config% *}\",\"size\":${_config#* }},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:${_layer% *}\",\"size\":${_layer#* }}]}" > "$_dir/manifest.json"
  _manifest=$(_oci_blob "$_dir" "$_dir/manifest.json") || return 1
  printf '%s' "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:${_manifest% *}\",\"size\":${_manifest#* },\"annotations\":{\"org.opencontainers.image.ref.name\":\"$_tag\"}}]}" > "$_dir/index.json"
  echo '{"imageLayoutVersion":"1.0.0"}' > "$_dir/oci-layout"
}

# _oci_blob LAYOUT FILE: move FILE into LAYOUT's blobs, print "HEX SIZE".
_oci_blob () {
  _sum=$(sha256sum "$2") || return 1
  _sum=${_sum%% *}
  _size=$(($(wc -c < "$2"))) || return 1
  mv "$2" "$1/blobs/sha256/$_sum" || return 1
  echo "$_sum $_size"
}

# src/node/net: node-side networking loops (NetworkPolicy, cross-node routes; docs/cni.md)
# Linked after src/node/libnode.a, which calls it.

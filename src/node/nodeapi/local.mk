# src/node/nodeapi: the node API server (logs, exec, attach, port-forward; docs/node.md)
# Linked after src/node/libnode.a, which calls it.

/* Message builders shared by the two writers of table netdev husk-fast: cni/fastpath.c (the
   pod-to-pod shortcut on one node) and cni/fastpath-remote.c (the cross-node one). Each
   appends one message to the batch and frees what it was given. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>

#include "cni/nft-internal.h"

struct nlmsghdr *cni_fast_msg (nft_batch *nb, int type, int flags);
/* the table, created when missing */
void cni_fast_table_msg (nft_batch *nb);
/* a set of the table, id naming it inside the batch; the caller sets its types */
struct nftnl_set *cni_fast_set_new (const char *name, uint32_t id);
/* NFT_MSG_NEWSET sends the set, any other type its elements; s is freed */
void cni_fast_set_msg (nft_batch *nb, int type, int flags, struct nftnl_set *s);
/* A regular chain (dev NULL) or the ingress chain of dev, created when missing. */
void cni_fast_chain_msg (nft_batch *nb, const char *name, const char *dev, const char *comment);
void cni_fast_del_chain_msg (nft_batch *nb, const char *name);
struct nftnl_rule *cni_fast_rule_new (const char *chain);
/* appends r to its chain; r is freed */
void cni_fast_rule_send (nft_batch *nb, struct nftnl_rule *r);
/* Every rule of chain goes (the chain stays). */
void cni_fast_flush_msg (nft_batch *nb, const char *chain);
/* verdict [chain] */
void cni_fast_e_verdict (struct nftnl_rule *r, int verdict, const char *chain);

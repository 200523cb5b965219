/* husk api: the protobuf request bodies kubectl 1.32 sends ("k8s\0" + runtime.Unknown). */
#ifndef HUSK_API_PROTO_H
#define HUSK_API_PROTO_H

#include <jansson.h>

#include "lib/error.h"

/* Decodes a protobuf-encoded object of a known kind into its JSON form. */
int api_proto_decode (const unsigned char *data, size_t len, json_t **out, husk_error **err);

#endif

/* husk api: server-side Table output (meta.k8s.io/v1 Table) with upstream's columns. */
#ifndef HUSK_API_TABLE_H
#define HUSK_API_TABLE_H

#include "lib/buf.h"
#include "src/master/api/registry.h"

/* Builds a Table of items (array of objects, borrowed). include_object: "None",
   "Metadata" (default) or "Object". */
json_t *api_table_build (const api_resource *res, json_t *items, const char *rv,
                         const char *cont, const char *include_object, bool with_columns);

/* The same, one row at a time (a list converts each object and frees it before the next). */
json_t *api_table_new (const api_resource *res, const char *rv, const char *cont,
                       bool with_columns);
void api_table_add_row (json_t *table, const api_resource *res, const json_t *obj,
                        const char *include_object);

/* Appends the row of a stored object (its JSON text) to out, as api_table_row makes it but
   without metadata.managedFields in the object; pods' rows are written straight from the text
   (slim.c). False when the text does not parse (nothing appended). */
bool api_table_put_row (const api_resource *res, const char *json, const char *include_object,
                        husk_buf *out);

/* Upstream's HumanDuration of now - RFC 3339 timestamp ("5m", "2d3h", "<unknown>"). */
char *api_age (const char *ts);

/* Cell functions used by the registry's columns. */
json_t *api_cell_pod_ready (const json_t *o);
json_t *api_cell_pod_status (const json_t *o);
json_t *api_cell_pod_restarts (const json_t *o);
json_t *api_cell_pod_gates (const json_t *o);
json_t *api_cell_node_status (const json_t *o);
json_t *api_cell_node_roles (const json_t *o);
json_t *api_cell_node_internal_ip (const json_t *o);
json_t *api_cell_node_external_ip (const json_t *o);
json_t *api_cell_svc_external_ip (const json_t *o);
json_t *api_cell_svc_ports (const json_t *o);
json_t *api_cell_selector_map (const json_t *o);
json_t *api_cell_label_selector (const json_t *o);
json_t *api_cell_data_count (const json_t *o);
json_t *api_cell_deploy_ready (const json_t *o);
json_t *api_cell_sts_ready (const json_t *o);
json_t *api_cell_containers (const json_t *o);
json_t *api_cell_images (const json_t *o);
json_t *api_cell_replicas (const json_t *o);
json_t *api_cell_status_replicas (const json_t *o);
json_t *api_cell_ready_replicas (const json_t *o);
json_t *api_cell_updated_replicas (const json_t *o);
json_t *api_cell_available_replicas (const json_t *o);
json_t *api_cell_job_status (const json_t *o);
json_t *api_cell_job_completions (const json_t *o);
json_t *api_cell_endpoints (const json_t *o);
json_t *api_cell_sa_secrets (const json_t *o);
json_t *api_cell_event_object (const json_t *o);
json_t *api_cell_event_last_seen (const json_t *o);
json_t *api_cell_role_ref (const json_t *o);
json_t *api_cell_event_source (const json_t *o);
json_t *api_cell_event_first_seen (const json_t *o);
json_t *api_cell_event_count (const json_t *o);
json_t *api_cell_cronjob_last (const json_t *o);
json_t *api_cell_cronjob_active (const json_t *o);
json_t *api_cell_bool_suspend (const json_t *o);
json_t *api_cell_ds_desired (const json_t *o);
json_t *api_cell_ds_current (const json_t *o);
json_t *api_cell_ds_ready (const json_t *o);
json_t *api_cell_ds_updated (const json_t *o);
json_t *api_cell_ds_available (const json_t *o);
json_t *api_cell_node_selector (const json_t *o);
json_t *api_cell_hpa_reference (const json_t *o);
json_t *api_cell_hpa_targets (const json_t *o);
json_t *api_cell_hpa_min (const json_t *o);
json_t *api_cell_hpa_max (const json_t *o);
json_t *api_cell_hpa_replicas (const json_t *o);

#endif

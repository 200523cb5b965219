/* DaemonSet rolling update arithmetic: upstream daemonset/update.go rollingUpdate, as a pure
   function over the nodes' old/new pod states. */
#include "config.h"

#include "src/master/ctrl/logic.h"

static size_t
step_no_surge (ctrl_ds_node *nodes, size_t n, int32_t max_unavailable)
{
  int32_t unavailable = 0;
  size_t actions = 0;
  /* First pass: count what is unavailable and release the old pods that are not serving. */
  for (size_t i = 0; i < n; i++)
    {
      ctrl_ds_node *d = &nodes[i];
      if (!d->ok || d->has_old == d->has_new)
        unavailable++; /* both or neither: the manage step creates or deletes */
      else if (d->has_new && !d->new_avail)
        unavailable++;
      else if (d->has_old && !d->old_avail)
        {
          d->delete_old = true;
          actions++;
        }
    }
  for (size_t i = 0; i < n && unavailable < max_unavailable; i++)
    {
      ctrl_ds_node *d = &nodes[i];
      if (d->ok && d->has_old && !d->has_new && d->old_avail)
        {
          d->delete_old = true;
          unavailable++;
          actions++;
        }
    }
  return actions;
}

static size_t
step_surge (ctrl_ds_node *nodes, size_t n, int32_t max_surge)
{
  int32_t surging = 0;
  size_t actions = 0;
  for (size_t i = 0; i < n; i++)
    {
      ctrl_ds_node *d = &nodes[i];
      if (!d->ok || !d->has_old)
        continue;
      if (!d->has_new && !d->old_avail)
        {
          d->create_new = true; /* nothing serves here anyway */
          actions++;
        }
      else if (d->has_new && !d->new_avail)
        surging++;
      else if (d->has_new)
        {
          d->delete_old = true;
          actions++;
        }
    }
  for (size_t i = 0; i < n && surging < max_surge; i++)
    {
      ctrl_ds_node *d = &nodes[i];
      if (d->ok && d->has_old && !d->has_new && d->old_avail)
        {
          d->create_new = true;
          surging++;
          actions++;
        }
    }
  return actions;
}

size_t
ctrl_ds_rolling_step (ctrl_ds_node *nodes, size_t n, int32_t max_surge, int32_t max_unavailable)
{
  for (size_t i = 0; i < n; i++)
    nodes[i].delete_old = nodes[i].create_new = false;
  if (max_surge > 0)
    return step_surge (nodes, n, max_surge);
  return step_no_surge (nodes, n, max_unavailable);
}

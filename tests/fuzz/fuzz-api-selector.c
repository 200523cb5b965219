/* libFuzzer target: label and field selectors (query strings from any client). */
#include "config.h"

#include <stdint.h>

#include "lib/json.h"
#include "src/master/api/selector.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static json_t *obj;
  static const char *const allowed[] = {"spec.nodeName", "status.phase", NULL};
  if (obj == NULL)
    obj = json_loads ("{\"metadata\":{\"name\":\"p\",\"namespace\":\"d\",\"labels\":{\"a\":\"b\","
                      "\"c\":\"\"}},\"spec\":{\"nodeName\":\"n\"}}",
                      0, NULL);
  _cleanup_free_ char *s = xstrndup ((const char *) data, size);
  api_selector *sel = NULL;
  husk_error *err = NULL;
  if (api_label_selector_parse (s, &sel, &err) == 0)
    api_selector_matches (sel, obj);
  api_selector_free (sel);
  husk_error_free (err);
  sel = NULL, err = NULL;
  if (api_field_selector_parse (s, allowed, &sel, &err) == 0)
    {
      api_selector_matches (sel, obj);
      api_selector_equals (sel, "metadata.name");
    }
  api_selector_free (sel);
  husk_error_free (err);
  return 0;
}

/* C's verdicts on the configurations in stdin (one JSON object per line):
 * hystrix_config_from_json, and on refusal the key the error message names
 * (hystrix_last_error_message says "...invalid config: <key> <rule>"). */
#include <stdio.h>
#include <string.h>
#include "hystrix.h"

static char line[1 << 16];

int main(void) {
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\n")] = 0;
    hystrix_config config;
    hystrix_status status = hystrix_config_from_json(line, &config);
    if (status == HYSTRIX_OK) {
      puts("ok");
      continue;
    }
    char message[1024];
    size_t written = 0;
    if (hystrix_last_error_message(message, sizeof message, &written) != HYSTRIX_OK) {
      puts("err <no message>");
      continue;
    }
    const char *at = strstr(message, "invalid config: ");
    if (!at) {
      printf("err <unparsed: %s>\n", message);
      continue;
    }
    at += strlen("invalid config: ");
    printf("err %.*s\n", (int)strcspn(at, " "), at);
  }
  return 0;
}

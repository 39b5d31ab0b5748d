/* Valk as a scripting engine: a host program whose pricing rules are a
 * plug-in written in Valk (plugin.valk). See README.md to build it from an
 * installed Valk:
 *
 *   cc main.c $(pkg-config --cflags --libs valk) -o embed-demo
 *   ./embed-demo plugin.valk
 *
 * The host registers two C functions as Valk procedures, loads the
 * plug-in, calls its `quote-order` with a list built in C, reads the
 * vector it returns, and shows that script errors come back as messages
 * (the host goes on). Every value is a handle, released when done
 * (docs/embedding.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <valk.h>

struct product { const char *name; long cents; };

static const struct product catalogue[] = {
  { "apple", 45 }, { "bread", 320 }, { "cheese", 1290 }, { "wine", 2450 },
};

/* (host-price name) -> price in cents; an error for an unknown product. */
static valk_value host_price(void *userdata, int argc, const valk_value *argv) {
  const struct product *cat = userdata;
  (void)argc;
  char *name = valk_to_utf8(argv[0], NULL);
  if (!name)
    return valk_raise_error("host-price: expected a product name", 1, argv);
  for (size_t i = 0; i < sizeof catalogue / sizeof *catalogue; i++) {
    if (strcmp(cat[i].name, name) == 0) {
      free(name);
      return valk_integer(cat[i].cents);
    }
  }
  free(name);
  return valk_raise_error("host-price: unknown product", 1, argv);
}

/* (host-log item ...) prints its arguments on the host's log. */
static valk_value host_log(void *userdata, int argc, const valk_value *argv) {
  (void)userdata;
  printf("[plugin]");
  for (int i = 0; i < argc; i++) {
    char *text = valk_print_string(argv[i], 1);
    printf(" %s", text ? text : "?");
    free(text);
  }
  printf("\n");
  return valk_unspecified();
}

/* Builds the order ((name . quantity) ...) from C data. */
static valk_value make_order(const char *const *names, const long *qty, size_t n) {
  valk_value order = valk_null();
  for (size_t i = n; i-- > 0;) {
    valk_value name = valk_string(names[i]);
    valk_value q = valk_integer(qty[i]);
    valk_value item = valk_cons(name, q);
    valk_value rest = valk_cons(item, order);
    valk_release(name);
    valk_release(q);
    valk_release(item);
    valk_release(order);
    order = rest;
  }
  return order;
}

static long integer_of(valk_value v) {
  int64_t n = 0;
  valk_to_integer(v, &n);
  return (long)n;
}

/* Calls (quote-order order) and prints the vector it returns. */
static int quote(valk_value quote_order, const char *const *names, const long *qty, size_t n) {
  valk_value order = make_order(names, qty, n);
  valk_value result = valk_call(quote_order, 1, &order);
  valk_release(order);
  if (!result) {
    printf("quote failed: %s\n", valk_last_error_message());
    return 1;
  }
  if (!valk_is_vector(result) || valk_vector_length(result) != 3) {
    printf("quote-order returned something else\n");
    valk_release(result);
    return 1;
  }
  valk_value total = valk_vector_ref(result, 0);
  valk_value discount = valk_vector_ref(result, 1);
  valk_value lines = valk_vector_ref(result, 2);
  printf("%lld lines:\n", (long long)valk_list_length(lines));
  valk_value l = valk_dup(lines);
  while (valk_is_pair(l)) {
    valk_value item = valk_car(l);
    char *line = valk_print_string(item, 0);
    printf("  %s\n", line);
    free(line);
    valk_release(item);
    valk_value next = valk_cdr(l);
    valk_release(l);
    l = next;
  }
  valk_release(l);
  printf("discount %ld, total %ld.%02ld\n", integer_of(discount), integer_of(total) / 100,
         integer_of(total) % 100);
  valk_release(total);
  valk_release(discount);
  valk_release(lines);
  valk_release(result);
  return 0;
}

int main(int argc, char **argv) {
  const char *plugin = argc > 1 ? argv[1] : "plugin.valk";
  if (valk_init(NULL) != VALK_OK) {
    fprintf(stderr, "cannot start Valk: %s\n", valk_last_error_message());
    return 1;
  }
  valk_define_procedure("host-price", host_price, 1, 1, (void *)catalogue);
  valk_define_procedure("host-log", host_log, 0, -1, NULL);

  valk_value loaded = valk_load_file(plugin);
  if (!loaded) {
    fprintf(stderr, "cannot load %s: %s\n", plugin, valk_last_error_message());
    return 1;
  }
  valk_release(loaded);
  valk_value quote_order = valk_lookup("quote-order");
  if (!quote_order) {
    fprintf(stderr, "the plug-in has no quote-order: %s\n", valk_last_error_message());
    return 1;
  }

  const char *names1[] = { "apple", "bread", "wine" };
  const long qty1[] = { 12, 2, 4 };
  quote(quote_order, names1, qty1, 3);

  /* A script error (an unknown product) is reported, and the host goes on. */
  const char *names2[] = { "apple", "caviar" };
  const long qty2[] = { 1, 1 };
  quote(quote_order, names2, qty2, 2);

  /* So is a broken expression, with the error's irritants. */
  valk_value r = valk_eval_string("(vector-ref (vector 1 2 3) 10)");
  if (!r) {
    valk_value irritants = valk_last_error_irritants();
    char *text = valk_print_string(irritants, 0);
    printf("script error: %s (irritants %s)\n", valk_last_error_message(), text);
    free(text);
    valk_release(irritants);
  }
  valk_release(quote_order);
  /* One handle stays live: the last error's object (docs/embedding.md). */
  printf("handles still live: %zu\n", valk_handle_count());
  valk_shutdown();
  return 0;
}

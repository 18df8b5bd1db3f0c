/* CurlApi and ArchiveApi: the libraries are not loaded until first use, both
 * tables then fill completely, concurrent first loads and a second load
 * return the same table, and calls through the pointers really reach the libraries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "stacktop/ArchiveApi.h"
#include "stacktop/CurlApi.h"

typedef void (*AnyFunction)(void);

/* Counts the NULL function pointers in a table made only of them. */
static size_t nullPointers(const void* table, size_t size) {
   size_t nulls = 0;
   for (size_t off = 0; off + sizeof(AnyFunction) <= size; off += sizeof(AnyFunction)) {
      AnyFunction f;
      memcpy(&f, (const char*)table + off, sizeof(f));
      nulls += f == NULL;
   }
   return nulls;
}

static bool isLoaded(const char* soname) {
   void* h = dlopen(soname, RTLD_NOW | RTLD_NOLOAD);
   if (h)
      dlclose(h); /* drops only the reference RTLD_NOLOAD just took */
   return h != NULL;
}

/* Runs first: the point of the modules is that nothing links these libraries. */
static void test_not_loaded_before_use(void** state) {
   (void)state;
   assert_false(isLoaded("libcurl.so.4"));
   assert_false(isLoaded("libarchive.so.13"));
}

static void* loadBoth(void* arg) {
   const void** out = arg;
   char err[512];
   out[0] = CurlApi_get(err, sizeof(err));
   out[1] = ArchiveApi_get(err, sizeof(err));
   return NULL;
}

/* The first load happens here, from four threads at once: all get one table. */
static void test_first_load_from_threads(void** state) {
   (void)state;
   const void* got[4][2];
   pthread_t t[4];
   for (int i = 0; i < 4; i++)
      assert_int_equal(pthread_create(&t[i], NULL, loadBoth, got[i]), 0);
   for (int i = 0; i < 4; i++)
      assert_int_equal(pthread_join(t[i], NULL), 0);
   char err[512];
   for (int i = 0; i < 4; i++) {
      assert_non_null(got[i][0]);
      assert_non_null(got[i][1]);
      assert_ptr_equal(got[i][0], CurlApi_get(err, sizeof(err)));
      assert_ptr_equal(got[i][1], ArchiveApi_get(err, sizeof(err)));
   }
}

static void test_curl_table(void** state) {
   (void)state;
   char err[512] = "";
   const CurlApi* api = CurlApi_get(err, sizeof(err));
   assert_non_null(api);
   assert_string_equal(err, "");
   assert_int_equal(nullPointers(api, sizeof(*api)), 0);
   assert_true(isLoaded("libcurl.so.4"));
   assert_ptr_equal(CurlApi_get(err, sizeof(err)), api);
   /* curl_global_init already ran: a handle can be made and freed. */
   CURL* curl = api->easyInit();
   assert_non_null(curl);
   assert_int_equal(api->easySetopt(curl, CURLOPT_NOSIGNAL, 1L), CURLE_OK);
   api->easyCleanup(curl);
   struct curl_slist* list = api->slistAppend(NULL, "a@example.org");
   assert_non_null(list);
   assert_string_equal(list->data, "a@example.org");
   api->slistFreeAll(list);
   assert_true(strlen(api->easyStrerror(CURLE_COULDNT_CONNECT)) > 0);
}

static void test_archive_table(void** state) {
   (void)state;
   char err[512] = "";
   const ArchiveApi* api = ArchiveApi_get(err, sizeof(err));
   assert_non_null(api);
   assert_string_equal(err, "");
   assert_int_equal(nullPointers(api, sizeof(*api)), 0);
   assert_true(isLoaded("libarchive.so.13"));
   assert_ptr_equal(ArchiveApi_get(err, sizeof(err)), api);
   struct archive* a = api->writeNew();
   assert_non_null(a);
   assert_int_equal(api->writeAddFilterGzip(a), ARCHIVE_OK);
   assert_int_equal(api->writeSetFormatPaxRestricted(a), ARCHIVE_OK);
   assert_int_equal(api->writeFree(a), ARCHIVE_OK);
   struct archive_entry* e = api->entryNew();
   assert_non_null(e);
   api->entrySetSize(e, 42);
   api->entryFree(e);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_not_loaded_before_use),
      cmocka_unit_test(test_first_load_from_threads),
      cmocka_unit_test(test_curl_table),
      cmocka_unit_test(test_archive_table),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}

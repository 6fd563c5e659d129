/* tests/install/hello.c: a user's program, built by tests/install/check.sh against an installed
 * slabguard (pkg-config, the shared library or the static archive). It prints what it found;
 * check.sh compares the lines.
 *
 * Linking slabguard must make the program's plain malloc slabguard's: a block from malloc is
 * then one slabguard knows, so sg_malloc_usable_size answers for it. Were malloc still libc's,
 * that call would abort with "slabguard: invalid pointer", and check.sh would say so. */
#include <slabguard.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
    printf("version %s\n", sg_version());
    printf("variant %s\n", sg_is_secure() ? "secure" : "fast");

    char *mine = sg_malloc(100);
    char *libc_name = malloc(100);
    if (!mine || !libc_name) {
        puts("allocation failed");
        return 1;
    }
    memset(mine, 'a', 100);
    memset(libc_name, 'b', 100);
    printf("sg_malloc usable %s\n", sg_malloc_usable_size(mine) >= 100 ? "ok" : "short");
    printf("malloc is slabguard's: %s\n", sg_malloc_usable_size(libc_name) >= 100 ? "yes" : "no");

    /* blocks cross between the two names */
    free(mine);
    sg_free(libc_name);

    sg_stats_t st;
    sg_stats_get(&st);
    printf("stats %s\n", st.mapped > 0 && st.threads >= 1 ? "ok" : "empty");
    return 0;
}

/* Refusal test: a thread-local variable, whose TLS relocations have no patch
 * routine (and which the Apple targets' clang rejects outright).
 * expect: unknown relocation kind
 * symbol: counter
 * targets: x86_64-unknown-linux x86_64-pc-windows aarch64-unknown-linux aarch64-pc-windows
 * clang-rejects: x86_64-apple-darwin aarch64-apple-darwin
 */
#include "jit_stencil.h"

static _Thread_local int64_t counter;

STENCIL(BAD_THREAD_LOCAL) {
    SLOT(0).i = ++counter;
    CONTINUE();
}

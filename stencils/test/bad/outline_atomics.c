/* Refusal test: with outline atomics (the default of some AArch64 targets,
 * turned off by the build's -mno-outline-atomics) an atomic add becomes a call
 * of a libgcc helper.
 * expect: hidden library function
 * symbol: __aarch64_ldadd8_acq_rel
 * flags: -moutline-atomics
 * targets: aarch64-unknown-linux aarch64-pc-windows
 */
#include "jit_stencil.h"

STENCIL(BAD_OUTLINE_ATOMICS) {
    __atomic_fetch_add(&SLOT(1).o->ob_refcnt, 1, __ATOMIC_ACQ_REL);
    CONTINUE();
}

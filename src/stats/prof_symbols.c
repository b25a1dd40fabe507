/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sampled addresses to folded stacks. libdw maps each address to the module loaded there
 * (from /proc/self/maps) and to the symbol covering it, from the module's .symtab when it has
 * one (our library's static functions) else its .dynsym (libcurl, OpenSSL, libc as Debian
 * ships them). No separate debug files are looked for: that could mean a download.
 */
#include <elfutils/libdwfl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "stats/prof_int.h"
#include "util/alloc.h"
#include "util/buf.h"

static int no_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                        const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
                        char **debuginfo_file_name)
{
    (void)mod, (void)userdata, (void)modname, (void)base, (void)file_name, (void)debuglink_file;
    (void)debuglink_crc, (void)debuginfo_file_name;
    return -1;
}

static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = no_debuginfo,
};

/* ---- names, cached per address ------------------------------------------------------------ */

struct name_slot {
    uintptr_t pc;
    char *name;              /* NULL: empty slot */
};

struct namer {
    Dwfl *dwfl;
    struct name_slot *slots;
    size_t cap, used;
};

/*
 * A frame name may hold neither the folded format's separators nor control characters, and
 * GCC's clone suffixes (".constprop.0", ".isra.0", ".part.0", ".cold") would split one
 * function into several frames.
 */
static char *clean_name(const char *s)
{
    char *out = s3dlio_xstrdup(s);
    for (char *p = out; *p; p++)
        if (*p == ';' || (unsigned char)*p < 0x20)
            *p = *p == ';' ? ':' : ' ';
    static const char *const clones[] = {".constprop.", ".isra.", ".part.", ".cold", ".lto_priv."};
    for (size_t i = 0; i < sizeof(clones) / sizeof(clones[0]); i++) {
        char *c = strstr(out, clones[i]);
        if (c && c > out)
            *c = '\0';
    }
    return out;
}

/*
 * An address no symbol covers (a library's internal function, its symbols stripped) is named
 * by its module alone: offsets would split one unnamed function into a frame per sample.
 */
static char *lookup(struct namer *n, uintptr_t pc)
{
    Dwfl_Module *mod = n->dwfl ? dwfl_addrmodule(n->dwfl, (Dwarf_Addr)pc) : NULL;
    if (!mod)
        return s3dlio_xstrdup("[unknown]");
    const char *sym = dwfl_module_addrname(mod, (Dwarf_Addr)pc);
    if (sym)
        return clean_name(sym);
    const char *file = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    const char *slash = file ? strrchr(file, '/') : NULL;
    char text[320];
    snprintf(text, sizeof(text), "[%s]", slash ? slash + 1 : file ? file : "unknown");
    return clean_name(text);
}

static void namer_grow(struct namer *n)
{
    size_t cap = n->cap ? n->cap * 2 : 1024;
    struct name_slot *slots = s3dlio_xcalloc(cap, sizeof(*slots));
    for (size_t i = 0; i < n->cap; i++) {
        if (!n->slots[i].name)
            continue;
        size_t j = (n->slots[i].pc * 0x9e3779b97f4a7c15ull >> 20) & (cap - 1);
        while (slots[j].name)
            j = (j + 1) & (cap - 1);
        slots[j] = n->slots[i];
    }
    free(n->slots);
    n->slots = slots;
    n->cap = cap;
}

static const char *name_of(struct namer *n, uintptr_t pc)
{
    if ((n->used + 1) * 2 > n->cap)
        namer_grow(n);
    size_t j = (pc * 0x9e3779b97f4a7c15ull >> 20) & (n->cap - 1);
    for (; n->slots[j].name; j = (j + 1) & (n->cap - 1))
        if (n->slots[j].pc == pc)
            return n->slots[j].name;
    n->slots[j].pc = pc;
    n->slots[j].name = lookup(n, pc);
    n->used++;
    return n->slots[j].name;
}

static void namer_open(struct namer *n)
{
    memset(n, 0, sizeof(*n));
    n->dwfl = dwfl_begin(&callbacks);
    if (!n->dwfl)
        return;
    dwfl_report_begin(n->dwfl);
    if (dwfl_linux_proc_report(n->dwfl, getpid()) || dwfl_report_end(n->dwfl, NULL, NULL)) {
        dwfl_end(n->dwfl);
        n->dwfl = NULL; /* every frame shows as [unknown]: still counted */
    }
}

static void namer_close(struct namer *n)
{
    for (size_t i = 0; i < n->cap; i++)
        free(n->slots[i].name);
    free(n->slots);
    if (n->dwfl)
        dwfl_end(n->dwfl);
}

/* ---- folded text -------------------------------------------------------------------------- */

struct copied {
    enum s3dlio_phase phase;
    uintptr_t *pcs;          /* depth per stack, back to back */
    size_t npcs, pcs_cap;
    int *depth;
    uint64_t *count;
    size_t n, cap;
};

/* Copies the phase's stacks out, so that naming them does not hold the sampler's lock. */
static void copy_stack(void *ud, enum s3dlio_phase phase, const uintptr_t *pc, int depth, uint64_t count)
{
    struct copied *c = ud;
    if (phase != c->phase)
        return;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 256;
        c->depth = s3dlio_xrealloc(c->depth, c->cap * sizeof(*c->depth));
        c->count = s3dlio_xrealloc(c->count, c->cap * sizeof(*c->count));
    }
    if (c->npcs + (size_t)depth > c->pcs_cap) {
        c->pcs_cap = (c->npcs + (size_t)depth) * 2;
        c->pcs = s3dlio_xrealloc(c->pcs, c->pcs_cap * sizeof(*c->pcs));
    }
    memcpy(c->pcs + c->npcs, pc, (size_t)depth * sizeof(*pc));
    c->npcs += (size_t)depth;
    c->depth[c->n] = depth;
    c->count[c->n++] = count;
}

char *s3dlio_prof_folded(enum s3dlio_phase p, size_t *len)
{
    struct copied c = {.phase = p};
    *len = 0;
    s3dlio_prof_each_stack(copy_stack, &c);
    if (!c.n)
        return NULL;
    struct namer names;
    namer_open(&names);
    struct s3dlio_buf out = S3DLIO_BUF_INIT(SIZE_MAX / 2);
    const uintptr_t *pc = c.pcs;
    for (size_t i = 0; i < c.n; pc += c.depth[i], i++) {
        const char *prev = NULL;
        for (int f = c.depth[i] - 1; f >= 0; f--) {
            /* a return address is the instruction after the call: the call itself is one
             * byte before, inside the caller even when the call ends the function */
            const char *name = name_of(&names, f ? pc[f] - 1 : pc[f]);
            /* a run of a stripped library's unnamed functions says no more than one frame */
            if (prev && name[0] == '[' && !strcmp(name, prev))
                continue;
            if (prev)
                s3dlio_buf_addc(&out, ';');
            s3dlio_buf_adds(&out, name);
            prev = name;
        }
        s3dlio_buf_addc(&out, ' ');
        s3dlio_buf_addf(&out, "%llu\n", (unsigned long long)c.count[i]);
    }
    namer_close(&names);
    free(c.pcs);
    free(c.depth);
    free(c.count);
    *len = out.len;
    return s3dlio_buf_detach(&out);
}

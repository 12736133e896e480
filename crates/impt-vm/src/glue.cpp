// Glue between the Squirrel VM and the Rust wrapper (src/vm/ffi.rs).
//
// * Memory accounting: Squirrel routes every allocation through sq_vm_malloc/realloc/free
//   (the default definitions in sqmem.cpp are compiled out with
//   SQ_EXCLUDE_DEFAULT_MEMFUNCTIONS). Bytes are charged to the VM whose state is current on
//   this thread (set by the Rust side around every entry into a VM).
// * Instruction budget: build.rs patches SQVM::Execute to decrement sq_glue_budget before
//   every instruction and to raise a runtime error when sq_glue_exhausted() says so.
// * Time budget and interruption: at the end of every slice of instructions, and after a
//   native did enough work (sq_glue_work: heap bytes allocated, elements compared, sorted,
//   reversed or searched), the run's thread CPU time is checked against its budget and the
//   interrupt flag (set from another thread: redeploy, restart, unassign, delete) is read.
//   Natives that loop over big data call sq_glue_work and stop with an error when it says so.
#include <stdarg.h>
#include <time.h>
#if defined(__linux__)
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "squirrel.h"

extern "C" {
struct SqGlueState {
    long long used;          // bytes currently charged to this VM
    long long cap;           // memory cap in bytes (<= 0: unlimited)
    long long peak;          // highest `used` seen
    long long ops_limit;     // instructions per run (<= 0: unlimited)
    long long ops_used;      // instructions executed in the current run
    int mem_exceeded;        // set once `used` went over `cap`
    int ops_exceeded;        // set once the budget ran out
    long long cpu_limit_ns;  // thread CPU time per run (<= 0: unlimited)
    long long cpu_start_ns;  // the thread's CPU clock when the run began
    const int *interrupt;    // non-zero (set by another thread): stop the run now
    long long work;          // native work units since the last time check
    int time_exceeded;       // set once the CPU time budget ran out
    int interrupted;         // set once the interrupt flag was seen
    HSQUIRRELVM vm;          // the VM accounted for (null: never collect from the glue)
};
}

// Instructions between two checks of the time budget and the interrupt flag (about 50 to
// 150 microseconds of Squirrel code).
static const SQInteger SLICE = 1 << 14;
// Native work units (bytes allocated / 16, elements visited) between two such checks.
static const long long WORK_CHECK = 1 << 14;
thread_local SQInteger sq_glue_budget = SLICE;
static thread_local SqGlueState *sq_glue_cur = 0;
static thread_local SQInteger sq_glue_slice = SLICE;

extern "C" long long sq_glue_thread_cpu_ns(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// Lowers the calling thread's OS priority by `nice` (Linux: per-thread nice value).
extern "C" void sq_glue_nice_thread(int nice) {
#if defined(__linux__)
    setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice);
#else
    (void)nice;
#endif
}

static inline int stopped(SqGlueState *st) {
    return st->mem_exceeded || st->ops_exceeded || st->time_exceeded || st->interrupted;
}

// Reads the interrupt flag and the CPU clock; flags the state when the run must stop.
static int time_up(SqGlueState *st) {
    st->work = 0;
    if (st->interrupt && __atomic_load_n(st->interrupt, __ATOMIC_RELAXED)) st->interrupted = 1;
    if (!st->interrupted && st->cpu_limit_ns > 0 &&
        sq_glue_thread_cpu_ns() - st->cpu_start_ns > st->cpu_limit_ns)
        st->time_exceeded = 1;
    return st->interrupted || st->time_exceeded;
}

// Ends the running slice: the next instruction calls sq_glue_exhausted.
static inline void settle(SqGlueState *st) {
    if (sq_glue_budget > 0) {
        st->ops_used += sq_glue_slice - sq_glue_budget;
        sq_glue_slice = 0;
        sq_glue_budget = 0;
    }
}

extern "C" void sq_glue_set_current(SqGlueState *st) {
    // Settle the instructions counted in the running slice against the outgoing state.
    if (sq_glue_cur) {
        SQInteger done = sq_glue_slice - (sq_glue_budget < 0 ? 0 : sq_glue_budget);
        sq_glue_cur->ops_used += done;
    }
    sq_glue_cur = st;
    SQInteger next = SLICE;
    if (st && stopped(st)) next = 0;
    else if (st && st->ops_limit > 0 && st->ops_limit - st->ops_used < next)
        next = st->ops_limit - st->ops_used < 0 ? 0 : st->ops_limit - st->ops_used;
    sq_glue_slice = next;
    sq_glue_budget = next;
}

extern "C" SqGlueState *sq_glue_current(void) { return sq_glue_cur; }

// Called by natives that loop over big data, `units` at a time (an element compared or
// visited, 16 bytes copied). Non-zero: the run must stop (its error is raised by the
// interpreter before the next instruction; the native should fail at once).
extern "C" int sq_glue_work(SQInteger units) {
    SqGlueState *st = sq_glue_cur;
    if (!st) return 0;
    if (stopped(st)) { settle(st); return 1; }
    st->work += units;
    if (st->work < WORK_CHECK) return 0;
    if (time_up(st)) { settle(st); return 1; }
    return 0;
}

// Garbage: Squirrel frees by reference counting, and reference cycles (a table holding
// itself, closures bound to the objects that hold them) only by its mark-and-sweep collector.
// When the heap goes over the cap the run is not failed at once: before the next
// instruction the collector runs and the run goes on if what is left fits. It runs only
// where a script's own collectgarbage() could: with no native function on the call stack
// except, for the size guard below, the one asking (a native may hold objects that only
// its C locals reach, which the collector would take for garbage).
static int natives_on_stack(HSQUIRRELVM v) {
    SQStackInfos si;
    int n = 0;
    for (SQInteger level = 0; SQ_SUCCEEDED(sq_stackinfos(v, level, &si)); level++)
        if (si.source && strcmp(si.source, "NATIVE") == 0) n++;
    return n;
}

// Collects st's VM's garbage if allowed (at most `natives` native frames on its stack);
// non-zero when the heap is then within the cap.
static int collect_to_fit(SqGlueState *st, int natives) {
    if (!st->vm || st->cap <= 0) return 0;
    if (natives_on_stack(st->vm) > natives) return 0;
    sq_collectgarbage(st->vm);
    return st->used <= st->cap;
}

// Collects the current VM's garbage if at most `natives` native frames are on its stack
// (for imp.getmemoryfree(), asked through one native).
extern "C" void sq_glue_collect(int natives) {
    SqGlueState *st = sq_glue_cur;
    if (st) collect_to_fit(st, natives);
}

// Called from the patched interpreter loop when sq_glue_budget went below zero, i.e. for
// the instruction after the slice ran out. Returns non-zero when the VM must raise a runtime
// error instead of executing that instruction.
extern "C" int sq_glue_exhausted(void) {
    SqGlueState *st = sq_glue_cur;
    if (!st) { sq_glue_slice = SLICE; sq_glue_budget = SLICE; return 0; }
    // Instructions consumed since the slice started, including the one about to run.
    st->ops_used += sq_glue_slice - sq_glue_budget;
    sq_glue_slice = 0;
    sq_glue_budget = 0;
    if (st->mem_exceeded && !st->ops_exceeded && !st->time_exceeded && !st->interrupted &&
        collect_to_fit(st, 0))
        st->mem_exceeded = 0;
    if (stopped(st)) { st->ops_used -= 1; return 1; }
    if (time_up(st)) { st->ops_used -= 1; return 1; }
    if (st->ops_limit > 0 && st->ops_used > st->ops_limit) {
        st->ops_used = st->ops_limit;
        st->ops_exceeded = 1;
        return 1;
    }
    SQInteger next = SLICE;
    if (st->ops_limit > 0 && st->ops_limit - st->ops_used < next) next = st->ops_limit - st->ops_used;
    sq_glue_slice = next;
    sq_glue_budget = next;
    return 0;
}

extern "C" const char *sq_glue_reason(void) {
    SqGlueState *st = sq_glue_cur;
    if (st && st->mem_exceeded) return "out of memory (simulator memory limit exceeded)";
    if (st && st->interrupted) return "stopped by the simulator (new code, restart or unassignment)";
    if (st && st->time_exceeded) return "CPU time limit exceeded (runaway code stopped by the simulator)";
    return "instruction limit exceeded (runaway code stopped by the simulator)";
}

static inline void charge(long long delta) {
    SqGlueState *st = sq_glue_cur;
    if (!st) return;
    st->used += delta;
    if (st->used < 0) st->used = 0;
    if (st->used > st->peak) st->peak = st->used;
    if (delta > 0) {
        // Copying big data costs time: make the interpreter check the clock soon.
        st->work += delta >> 4;
        if (st->work >= WORK_CHECK) settle(st);
    }
    if (st->cap > 0 && st->used > st->cap && !st->mem_exceeded) {
        st->mem_exceeded = 1;
        // Settle the slice and force a check before the next instruction.
        if (sq_glue_budget > 0) {
            st->ops_used += sq_glue_slice - sq_glue_budget;
            sq_glue_slice = 0;
            sq_glue_budget = 0;
        }
    }
}

// Bytes the VM running on this thread holds now, and what it allocated since `mark` taken
// off its count: what Squirrel builds for itself on first use (a type's default delegate,
// kept until the VM closes) does not count against the code's memory, as if it had been
// built with the VM.
extern "C" long long sq_glue_used_now(void) {
    return sq_glue_cur ? sq_glue_cur->used : 0;
}
extern "C" void sq_glue_uncharge_since(long long mark) {
    SqGlueState *st = sq_glue_cur;
    if (!st || st->used <= mark) return;
    st->used = mark;
    if (st->cap <= 0 || st->used <= st->cap) st->mem_exceeded = 0;
}

// Allocations never fail here (Squirrel does not check for NULL): going over the cap only
// flags the VM, which then raises a runtime error before its next instruction.
void *sq_vm_malloc(SQUnsignedInteger size) {
    charge((long long)size);
    return malloc(size);
}

void *sq_vm_realloc(void *p, SQUnsignedInteger oldsize, SQUnsignedInteger size) {
    charge((long long)size - (long long)oldsize);
    return realloc(p, size);
}

void sq_vm_free(void *p, SQUnsignedInteger size) {
    charge(-(long long)size);
    free(p);
}

// print()/error output: Squirrel's print callbacks are variadic, so they are formatted here
// and handed to Rust as one string.
extern "C" void impt_vm_print(HSQUIRRELVM v, const char *text, int is_error);

static void glue_vprint(HSQUIRRELVM v, int is_error, const SQChar *fmt, va_list ap) {
    char buf[1024];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    if (n < 0) { va_end(ap2); return; }
    if ((size_t)n < sizeof buf) { impt_vm_print(v, buf, is_error); va_end(ap2); return; }
    char *big = (char *)malloc((size_t)n + 1);
    if (big) { vsnprintf(big, (size_t)n + 1, fmt, ap2); impt_vm_print(v, big, is_error); free(big); }
    va_end(ap2);
}
static void glue_print(HSQUIRRELVM v, const SQChar *fmt, ...) {
    va_list ap; va_start(ap, fmt); glue_vprint(v, 0, fmt, ap); va_end(ap);
}
static void glue_eprint(HSQUIRRELVM v, const SQChar *fmt, ...) {
    va_list ap; va_start(ap, fmt); glue_vprint(v, 1, fmt, ap); va_end(ap);
}
extern "C" void sq_glue_install_print(HSQUIRRELVM v) { sq_setprintfunc(v, glue_print, glue_eprint); }

// Guards the few natives that allocate a size given by the script in one go (array(n),
// array.resize(n), blob(n), blob.resize(n)): such a request over the cap is refused with a
// runtime error instead of being allocated (and touched) first. Negative sizes are refused too.
extern "C" int sq_glue_too_big(SQInteger count, SQInteger elem_size) {
    if (count < 0) return 1;
    SqGlueState *st = sq_glue_cur;
    if (!st || st->cap <= 0) return count > ((SQInteger)1 << 40) / (elem_size > 0 ? elem_size : 1);
    SQInteger size = elem_size > 0 ? elem_size : 1;
    long long room = st->cap - st->used;
    if (room > 0 && count <= room / size) return 0;
    // Garbage may be in the way: the native asking holds nothing yet.
    if (st->mem_exceeded || !collect_to_fit(st, 1)) return 1;
    room = st->cap - st->used;
    return room <= 0 || count > room / size;
}

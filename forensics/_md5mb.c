/* Multi-buffer MD5: several files hashed at once, one per SIMD lane (8 lanes of 32 bits with AVX2, 16 with
 * AVX-512), the way Intel's ISA-L crypto md5_mb does it. MD5 of one stream is serial (each 64-byte block needs the
 * state left by the one before), but the inventory hashes files a batch at a time, so the lanes of one vector
 * register each carry a different file's state through the same 64 steps.
 *
 * MD5 itself is RFC 1321: the four 32-bit words of state start at 67452301 efcdab89 98badcfe 10325476; each 64-byte
 * block (sixteen little-endian words X[k]) goes through 64 steps a = b + ((a + f(b,c,d) + X[k] + T[i]) <<< s)
 * (MD5_STEPS below lists k, s and T[i] = floor(2^32 * |sin(i + 1)|) of each step, in the RFC's order); the message
 * is padded with one 0x80 byte, zeros up to 56 mod 64, and its length in bits as a 64-bit little-endian number.
 *
 * Each lane is fed by its own cursor over its file's chunks (a file arrives as a list of chunks): whole blocks are
 * read in place, a block that straddles two chunks and the padding are assembled in the lane's own 64-byte scratch
 * block. A lane whose file is finished takes the next file at once (longest files first, so the lanes end
 * together); once fewer files are left than make the vector pay, each is finished by the one-block-at-a-time
 * (scalar) code from its lane's state. The AVX2 and AVX-512 functions are compiled with target attributes and chosen
 * at run time (__builtin_cpu_supports), so the module builds on any x86-64, and the scalar code alone elsewhere.
 * The GIL is released while hashing: the buffers are held (Py_buffer) for the whole call. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define MD5MB_X86 1
#endif

#define MAX_LANES 16

/* The 64 steps of RFC 1321 section 3.4: STEP(function, a, b, c, d, k, s, T[i]). */
#define MD5_STEPS \
    STEP(F, a, b, c, d,  0,  7, 0xd76aa478u); \
    STEP(F, d, a, b, c,  1, 12, 0xe8c7b756u); \
    STEP(F, c, d, a, b,  2, 17, 0x242070dbu); \
    STEP(F, b, c, d, a,  3, 22, 0xc1bdceeeu); \
    STEP(F, a, b, c, d,  4,  7, 0xf57c0fafu); \
    STEP(F, d, a, b, c,  5, 12, 0x4787c62au); \
    STEP(F, c, d, a, b,  6, 17, 0xa8304613u); \
    STEP(F, b, c, d, a,  7, 22, 0xfd469501u); \
    STEP(F, a, b, c, d,  8,  7, 0x698098d8u); \
    STEP(F, d, a, b, c,  9, 12, 0x8b44f7afu); \
    STEP(F, c, d, a, b, 10, 17, 0xffff5bb1u); \
    STEP(F, b, c, d, a, 11, 22, 0x895cd7beu); \
    STEP(F, a, b, c, d, 12,  7, 0x6b901122u); \
    STEP(F, d, a, b, c, 13, 12, 0xfd987193u); \
    STEP(F, c, d, a, b, 14, 17, 0xa679438eu); \
    STEP(F, b, c, d, a, 15, 22, 0x49b40821u); \
    STEP(G, a, b, c, d,  1,  5, 0xf61e2562u); \
    STEP(G, d, a, b, c,  6,  9, 0xc040b340u); \
    STEP(G, c, d, a, b, 11, 14, 0x265e5a51u); \
    STEP(G, b, c, d, a,  0, 20, 0xe9b6c7aau); \
    STEP(G, a, b, c, d,  5,  5, 0xd62f105du); \
    STEP(G, d, a, b, c, 10,  9, 0x02441453u); \
    STEP(G, c, d, a, b, 15, 14, 0xd8a1e681u); \
    STEP(G, b, c, d, a,  4, 20, 0xe7d3fbc8u); \
    STEP(G, a, b, c, d,  9,  5, 0x21e1cde6u); \
    STEP(G, d, a, b, c, 14,  9, 0xc33707d6u); \
    STEP(G, c, d, a, b,  3, 14, 0xf4d50d87u); \
    STEP(G, b, c, d, a,  8, 20, 0x455a14edu); \
    STEP(G, a, b, c, d, 13,  5, 0xa9e3e905u); \
    STEP(G, d, a, b, c,  2,  9, 0xfcefa3f8u); \
    STEP(G, c, d, a, b,  7, 14, 0x676f02d9u); \
    STEP(G, b, c, d, a, 12, 20, 0x8d2a4c8au); \
    STEP(H, a, b, c, d,  5,  4, 0xfffa3942u); \
    STEP(H, d, a, b, c,  8, 11, 0x8771f681u); \
    STEP(H, c, d, a, b, 11, 16, 0x6d9d6122u); \
    STEP(H, b, c, d, a, 14, 23, 0xfde5380cu); \
    STEP(H, a, b, c, d,  1,  4, 0xa4beea44u); \
    STEP(H, d, a, b, c,  4, 11, 0x4bdecfa9u); \
    STEP(H, c, d, a, b,  7, 16, 0xf6bb4b60u); \
    STEP(H, b, c, d, a, 10, 23, 0xbebfbc70u); \
    STEP(H, a, b, c, d, 13,  4, 0x289b7ec6u); \
    STEP(H, d, a, b, c,  0, 11, 0xeaa127fau); \
    STEP(H, c, d, a, b,  3, 16, 0xd4ef3085u); \
    STEP(H, b, c, d, a,  6, 23, 0x04881d05u); \
    STEP(H, a, b, c, d,  9,  4, 0xd9d4d039u); \
    STEP(H, d, a, b, c, 12, 11, 0xe6db99e5u); \
    STEP(H, c, d, a, b, 15, 16, 0x1fa27cf8u); \
    STEP(H, b, c, d, a,  2, 23, 0xc4ac5665u); \
    STEP(I, a, b, c, d,  0,  6, 0xf4292244u); \
    STEP(I, d, a, b, c,  7, 10, 0x432aff97u); \
    STEP(I, c, d, a, b, 14, 15, 0xab9423a7u); \
    STEP(I, b, c, d, a,  5, 21, 0xfc93a039u); \
    STEP(I, a, b, c, d, 12,  6, 0x655b59c3u); \
    STEP(I, d, a, b, c,  3, 10, 0x8f0ccc92u); \
    STEP(I, c, d, a, b, 10, 15, 0xffeff47du); \
    STEP(I, b, c, d, a,  1, 21, 0x85845dd1u); \
    STEP(I, a, b, c, d,  8,  6, 0x6fa87e4fu); \
    STEP(I, d, a, b, c, 15, 10, 0xfe2ce6e0u); \
    STEP(I, c, d, a, b,  6, 15, 0xa3014314u); \
    STEP(I, b, c, d, a, 13, 21, 0x4e0811a1u); \
    STEP(I, a, b, c, d,  4,  6, 0xf7537e82u); \
    STEP(I, d, a, b, c, 11, 10, 0xbd3af235u); \
    STEP(I, c, d, a, b,  2, 15, 0x2ad7d2bbu); \
    STEP(I, b, c, d, a,  9, 21, 0xeb86d391u);

static const uint32_t IV[4] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};

/* ---- one block at a time (RFC 1321 as written) ---- */

#define ROTL(x, s) (((x) << (s)) | ((x) >> (32 - (s))))
#define F(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define G(x, y, z) ((y) ^ ((z) & ((x) ^ (y))))
#define H(x, y, z) ((x) ^ (y) ^ (z))
#define I(x, y, z) ((y) ^ ((x) | ~(z)))
#define STEP(f, a, b, c, d, k, s, t) a += f(b, c, d) + X[k] + (t); a = ROTL(a, s) + b

static void md5_blocks(uint32_t st[4], const uint8_t *p, size_t n) {
    uint32_t a = st[0], b = st[1], c = st[2], d = st[3];
    for (; n; n--, p += 64) {
        uint32_t X[16];
        for (int k = 0; k < 16; k++)
            X[k] = (uint32_t)p[4 * k] | (uint32_t)p[4 * k + 1] << 8 | (uint32_t)p[4 * k + 2] << 16 |
                   (uint32_t)p[4 * k + 3] << 24;
        uint32_t aa = a, bb = b, cc = c, dd = d;
        MD5_STEPS
        a += aa; b += bb; c += cc; d += dd;
    }
    st[0] = a; st[1] = b; st[2] = c; st[3] = d;
}
#undef F
#undef G
#undef H
#undef I
#undef STEP

/* ---- the lanes: state of lane l is st[w * MAX_LANES + l], w = 0..3 (a, b, c, d) ---- */

typedef void (*LanesFn)(uint32_t *st, const uint8_t **ptr, const size_t *step, size_t n);

#ifdef MD5MB_X86
/* Words 0..7 of the 64-byte blocks at p[0..7] + off, as eight vectors of one word for the eight lanes. */
__attribute__((target("avx2"))) static inline void transpose8(const uint8_t *const *p, size_t off, __m256i *w) {
    __m256i r0 = _mm256_loadu_si256((const __m256i *)(p[0] + off)), r1 = _mm256_loadu_si256((const __m256i *)(p[1] + off));
    __m256i r2 = _mm256_loadu_si256((const __m256i *)(p[2] + off)), r3 = _mm256_loadu_si256((const __m256i *)(p[3] + off));
    __m256i r4 = _mm256_loadu_si256((const __m256i *)(p[4] + off)), r5 = _mm256_loadu_si256((const __m256i *)(p[5] + off));
    __m256i r6 = _mm256_loadu_si256((const __m256i *)(p[6] + off)), r7 = _mm256_loadu_si256((const __m256i *)(p[7] + off));
    __m256i t0 = _mm256_unpacklo_epi32(r0, r1), t1 = _mm256_unpackhi_epi32(r0, r1);
    __m256i t2 = _mm256_unpacklo_epi32(r2, r3), t3 = _mm256_unpackhi_epi32(r2, r3);
    __m256i t4 = _mm256_unpacklo_epi32(r4, r5), t5 = _mm256_unpackhi_epi32(r4, r5);
    __m256i t6 = _mm256_unpacklo_epi32(r6, r7), t7 = _mm256_unpackhi_epi32(r6, r7);
    __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
    __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
    __m256i u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6);
    __m256i u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7);
    w[0] = _mm256_permute2x128_si256(u0, u4, 0x20); w[4] = _mm256_permute2x128_si256(u0, u4, 0x31);
    w[1] = _mm256_permute2x128_si256(u1, u5, 0x20); w[5] = _mm256_permute2x128_si256(u1, u5, 0x31);
    w[2] = _mm256_permute2x128_si256(u2, u6, 0x20); w[6] = _mm256_permute2x128_si256(u2, u6, 0x31);
    w[3] = _mm256_permute2x128_si256(u3, u7, 0x20); w[7] = _mm256_permute2x128_si256(u3, u7, 0x31);
}

#define ADD _mm256_add_epi32
#define F(x, y, z) _mm256_xor_si256(z, _mm256_and_si256(x, _mm256_xor_si256(y, z)))
#define G(x, y, z) _mm256_xor_si256(y, _mm256_and_si256(z, _mm256_xor_si256(x, y)))
#define H(x, y, z) _mm256_xor_si256(_mm256_xor_si256(x, y), z)
#define I(x, y, z) _mm256_xor_si256(y, _mm256_or_si256(x, _mm256_xor_si256(z, ones)))
#define STEP(f, a, b, c, d, k, s, t)                                                                  \
    a = ADD(a, ADD(f(b, c, d), ADD(X[k], _mm256_set1_epi32((int)(t)))));                              \
    a = ADD(b, _mm256_or_si256(_mm256_slli_epi32(a, s), _mm256_srli_epi32(a, 32 - (s))))

/* n blocks of each of 8 lanes; lane l reads at ptr[l], ptr[l] + step[l], ... */
__attribute__((target("avx2"))) static void md5_x8(uint32_t *st, const uint8_t **ptr, const size_t *step, size_t n) {
    const __m256i ones = _mm256_set1_epi32(-1);
    __m256i a = _mm256_loadu_si256((const __m256i *)(st)), b = _mm256_loadu_si256((const __m256i *)(st + MAX_LANES));
    __m256i c = _mm256_loadu_si256((const __m256i *)(st + 2 * MAX_LANES));
    __m256i d = _mm256_loadu_si256((const __m256i *)(st + 3 * MAX_LANES));
    const uint8_t *p[8];
    memcpy(p, ptr, sizeof p);
    for (; n; n--) {
        __m256i X[16];
        transpose8(p, 0, X);
        transpose8(p, 32, X + 8);
        for (int l = 0; l < 8; l++) p[l] += step[l];
        __m256i aa = a, bb = b, cc = c, dd = d;
        MD5_STEPS
        a = ADD(a, aa); b = ADD(b, bb); c = ADD(c, cc); d = ADD(d, dd);
    }
    _mm256_storeu_si256((__m256i *)(st), a);
    _mm256_storeu_si256((__m256i *)(st + MAX_LANES), b);
    _mm256_storeu_si256((__m256i *)(st + 2 * MAX_LANES), c);
    _mm256_storeu_si256((__m256i *)(st + 3 * MAX_LANES), d);
}
#undef ADD
#undef F
#undef G
#undef H
#undef I
#undef STEP

/* AVX-512: 16 lanes; f, g, h, i are one vpternlogd each (truth tables over b = 0xF0, c = 0xCC, d = 0xAA) and the
 * rotation one vprold. */
#define ADD _mm512_add_epi32
#define F(x, y, z) _mm512_ternarylogic_epi32(x, y, z, 0xCA)
#define G(x, y, z) _mm512_ternarylogic_epi32(x, y, z, 0xE4)
#define H(x, y, z) _mm512_ternarylogic_epi32(x, y, z, 0x96)
#define I(x, y, z) _mm512_ternarylogic_epi32(x, y, z, 0x39)
#define STEP(f, a, b, c, d, k, s, t)                                                                  \
    a = ADD(a, ADD(f(b, c, d), ADD(X[k], _mm512_set1_epi32((int)(t)))));                              \
    a = ADD(b, _mm512_rol_epi32(a, s))

__attribute__((target("avx2,avx512f"))) static void md5_x16(uint32_t *st, const uint8_t **ptr, const size_t *step,
                                                            size_t n) {
    __m512i a = _mm512_loadu_si512(st), b = _mm512_loadu_si512(st + MAX_LANES);
    __m512i c = _mm512_loadu_si512(st + 2 * MAX_LANES), d = _mm512_loadu_si512(st + 3 * MAX_LANES);
    const uint8_t *p[16];
    memcpy(p, ptr, sizeof p);
    for (; n; n--) {
        __m256i lo[16], hi[16];
        __m512i X[16];
        transpose8(p, 0, lo);
        transpose8(p, 32, lo + 8);
        transpose8(p + 8, 0, hi);
        transpose8(p + 8, 32, hi + 8);
        for (int k = 0; k < 16; k++) X[k] = _mm512_inserti64x4(_mm512_castsi256_si512(lo[k]), hi[k], 1);
        for (int l = 0; l < 16; l++) p[l] += step[l];
        __m512i aa = a, bb = b, cc = c, dd = d;
        MD5_STEPS
        a = ADD(a, aa); b = ADD(b, bb); c = ADD(c, cc); d = ADD(d, dd);
    }
    _mm512_storeu_si512(st, a);
    _mm512_storeu_si512(st + MAX_LANES, b);
    _mm512_storeu_si512(st + 2 * MAX_LANES, c);
    _mm512_storeu_si512(st + 3 * MAX_LANES, d);
}
#undef ADD
#undef F
#undef G
#undef H
#undef I
#undef STEP
#endif

/* ---- files and the cursors that feed the lanes ---- */

typedef struct {
    const uint8_t *buf;
    size_t len;
} Piece;

typedef struct {
    const Piece *pieces;
    size_t npieces;
    uint64_t total; /* bytes */
    uint8_t *digest; /* 16 bytes of the output */
} Job;

enum { DATA, LENGTH, LAST }; /* still data; the padding spilled over, a block of zeros and length is due; last block */

typedef struct {
    const Job *job; /* NULL: idle */
    size_t piece, off;
    int phase;
    uint8_t scratch[64];
} Lane;

static void lane_start(Lane *ln, const Job *job) {
    ln->job = job;
    ln->piece = ln->off = 0;
    ln->phase = DATA;
}

static void put_length(uint8_t *block, uint64_t total) {
    uint64_t bits = total << 3;
    for (int i = 0; i < 8; i++) block[56 + i] = (uint8_t)(bits >> (8 * i));
}

/* The lane's next blocks: sets *ptr and returns how many whole blocks follow contiguously there (1 for the scratch
 * block, which is assembled here and always hashed in the same round). */
static size_t lane_peek(Lane *ln, const uint8_t **ptr) {
    const Job *j = ln->job;
    *ptr = ln->scratch;
    if (ln->phase == LENGTH) {
        memset(ln->scratch, 0, 56);
        put_length(ln->scratch, j->total);
        ln->phase = LAST;
        return 1;
    }
    while (ln->piece < j->npieces && ln->off == j->pieces[ln->piece].len) {
        ln->piece++;
        ln->off = 0;
    }
    if (ln->piece < j->npieces && j->pieces[ln->piece].len - ln->off >= 64) {
        *ptr = j->pieces[ln->piece].buf + ln->off;
        return (j->pieces[ln->piece].len - ln->off) / 64;
    }
    size_t n = 0;
    while (n < 64 && ln->piece < j->npieces) {
        const Piece *pc = &j->pieces[ln->piece];
        size_t take = pc->len - ln->off;
        if (take > 64 - n) take = 64 - n;
        memcpy(ln->scratch + n, pc->buf + ln->off, take);
        n += take;
        ln->off += take;
        if (ln->off == pc->len) {
            ln->piece++;
            ln->off = 0;
        }
    }
    if (n == 64) return 1;
    ln->scratch[n] = 0x80;
    memset(ln->scratch + n + 1, 0, 63 - n);
    if (n < 56) {
        put_length(ln->scratch, j->total);
        ln->phase = LAST;
    } else {
        ln->phase = LENGTH;
    }
    return 1;
}

/* After n blocks from ptr were hashed: 1 when that was the file's last block. */
static int lane_advance(Lane *ln, const uint8_t *ptr, size_t n) {
    if (ptr != ln->scratch) ln->off += n * 64;
    return ln->phase == LAST;
}

static void put_digest(uint8_t *out, const uint32_t s[4]) {
    for (int w = 0; w < 4; w++)
        for (int i = 0; i < 4; i++) out[4 * w + i] = (uint8_t)(s[w] >> (8 * i));
}

static void lane_finish_scalar(Lane *ln, uint32_t s[4]) {
    for (;;) {
        const uint8_t *p;
        size_t n = lane_peek(ln, &p);
        md5_blocks(s, p, n);
        if (lane_advance(ln, p, n)) break;
    }
    put_digest(ln->job->digest, s);
    ln->job = NULL;
}

static const uint8_t ZERO_BLOCK[64];

/* Hashes every job, in the order given, on `lanes` lanes with `fn` (lanes == 1: one block at a time). With fewer than
 * `min_vector` files in progress and none waiting, the rest is finished one block at a time. */
static void run(const Job *jobs, const size_t *order, size_t njobs, int lanes, LanesFn fn, int min_vector) {
    Lane ln[MAX_LANES];
    uint32_t st[4 * MAX_LANES];
    size_t next = 0;
    if (lanes == 1 || fn == NULL) {
        for (size_t i = 0; i < njobs; i++) {
            uint32_t s[4] = {IV[0], IV[1], IV[2], IV[3]};
            lane_start(&ln[0], &jobs[order[i]]);
            lane_finish_scalar(&ln[0], s);
        }
        return;
    }
    for (int l = 0; l < lanes; l++) ln[l].job = NULL;
    for (;;) {
        int active = 0;
        for (int l = 0; l < lanes; l++) {
            if (ln[l].job == NULL && next < njobs) {
                lane_start(&ln[l], &jobs[order[next++]]);
                for (int w = 0; w < 4; w++) st[w * MAX_LANES + l] = IV[w];
            }
            active += ln[l].job != NULL;
        }
        if (active == 0) return;
        if (next == njobs && active < min_vector) {
            for (int l = 0; l < lanes; l++) {
                if (ln[l].job == NULL) continue;
                uint32_t s[4];
                for (int w = 0; w < 4; w++) s[w] = st[w * MAX_LANES + l];
                lane_finish_scalar(&ln[l], s);
            }
            return;
        }
        const uint8_t *ptr[MAX_LANES];
        size_t step[MAX_LANES], n = SIZE_MAX;
        for (int l = 0; l < lanes; l++) {
            if (ln[l].job == NULL) {
                ptr[l] = ZERO_BLOCK;
                step[l] = 0;
                continue;
            }
            size_t k = lane_peek(&ln[l], &ptr[l]);
            if (k < n) n = k;
            step[l] = 64;
        }
        fn(st, ptr, step, n);
        for (int l = 0; l < lanes; l++) {
            if (ln[l].job == NULL || !lane_advance(&ln[l], ptr[l], n)) continue;
            uint32_t s[4];
            for (int w = 0; w < 4; w++) s[w] = st[w * MAX_LANES + l];
            put_digest(ln[l].job->digest, s);
            ln[l].job = NULL;
        }
    }
}

/* ---- Python ---- */

/* Fewer files in progress than this (none waiting): the vector no longer beats one lane at a time (measured with
 * benchmarks/md5.py). */
#define MIN_VECTOR_8 2
#define MIN_VECTOR_16 2

static int best_lanes(void) {
#ifdef MD5MB_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 16;
    if (__builtin_cpu_supports("avx2")) return 8;
#endif
    return 1;
}

static int supported(int lanes) {
    if (lanes == 1) return 1;
#ifdef MD5MB_X86
    __builtin_cpu_init();
    if (lanes == 8) return __builtin_cpu_supports("avx2");
    if (lanes == 16) return __builtin_cpu_supports("avx512f");
#endif
    return 0;
}

typedef struct {
    uint64_t total;
    size_t index;
} Order;

static int longest_first(const void *x, const void *y) {
    const Order *a = x, *b = y;
    if (a->total != b->total) return a->total < b->total ? 1 : -1;
    return a->index < b->index ? -1 : a->index > b->index;
}

/* Appends a buffer view of obj to *views; -1 with an exception set when obj is not a contiguous buffer. */
static int add_view(PyObject *obj, Py_buffer **views, size_t *nviews, size_t *cap) {
    if (*nviews == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        Py_buffer *grown = PyMem_Realloc(*views, ncap * sizeof(Py_buffer));
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        *views = grown;
        *cap = ncap;
    }
    if (PyObject_GetBuffer(obj, &(*views)[*nviews], PyBUF_SIMPLE) < 0) return -1;
    (*nviews)++;
    return 0;
}

static int default_lanes = 1;

PyDoc_STRVAR(md5_many_doc,
"md5_many(files, lanes=0) -> list of 16-byte MD5 digests, one per file, in order.\n\n"
"Each file is a bytes-like object or a list/tuple of them (its chunks, in order). lanes: 16 (AVX-512), 8 (AVX2)\n"
"or 1 (one block at a time); 0 takes LANES, the widest this CPU runs well. The GIL is released while hashing.");

static PyObject *md5_many(PyObject *Py_UNUSED(self), PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"files", "lanes", NULL};
    PyObject *files, *seq = NULL, *result = NULL;
    int lanes = 0;
    Py_buffer *views = NULL;
    size_t nviews = 0, capviews = 0;
    size_t *first = NULL; /* per file: index of its first view; first[nfiles] = nviews */
    Piece *pieces = NULL;
    Job *jobs = NULL;
    Order *order = NULL;
    size_t *order_idx = NULL;
    uint8_t *digests = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|i:md5_many", kwlist, &files, &lanes)) return NULL;
    if (lanes == 0) lanes = default_lanes;
    if (lanes != 1 && lanes != 8 && lanes != 16) {
        PyErr_SetString(PyExc_ValueError, "lanes must be 0, 1, 8 or 16");
        return NULL;
    }
    if (!supported(lanes)) {
        PyErr_Format(PyExc_ValueError, "%d lanes are not supported on this CPU", lanes);
        return NULL;
    }
    seq = PySequence_Fast(files, "md5_many takes a sequence of files");
    if (seq == NULL) return NULL;
    Py_ssize_t nfiles = PySequence_Fast_GET_SIZE(seq);
    first = PyMem_Malloc((nfiles + 1) * sizeof(size_t));
    if (first == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < nfiles; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        first[i] = nviews;
        if (PyObject_CheckBuffer(item)) {
            if (add_view(item, &views, &nviews, &capviews) < 0) goto done;
            continue;
        }
        if (!PyList_Check(item) && !PyTuple_Check(item)) {
            PyErr_Format(PyExc_TypeError, "file %zd: a bytes-like object or a list of them, not %.100s", i,
                         Py_TYPE(item)->tp_name);
            goto done;
        }
        PyObject *chunks = PySequence_Fast(item, "");
        if (chunks == NULL) goto done;
        for (Py_ssize_t k = 0; k < PySequence_Fast_GET_SIZE(chunks); k++) {
            if (add_view(PySequence_Fast_GET_ITEM(chunks, k), &views, &nviews, &capviews) < 0) {
                Py_DECREF(chunks);
                goto done;
            }
        }
        Py_DECREF(chunks);
    }
    first[nfiles] = nviews;
    pieces = PyMem_Malloc((nviews ? nviews : 1) * sizeof(Piece));
    jobs = PyMem_Malloc((nfiles ? nfiles : 1) * sizeof(Job));
    order = PyMem_Malloc((nfiles ? nfiles : 1) * sizeof(Order));
    order_idx = PyMem_Malloc((nfiles ? nfiles : 1) * sizeof(size_t));
    digests = PyMem_Malloc((nfiles ? nfiles : 1) * 16);
    if (!pieces || !jobs || !order || !order_idx || !digests) {
        PyErr_NoMemory();
        goto done;
    }
    for (size_t v = 0; v < nviews; v++) {
        pieces[v].buf = views[v].buf;
        pieces[v].len = (size_t)views[v].len;
    }
    for (Py_ssize_t i = 0; i < nfiles; i++) {
        jobs[i].pieces = pieces + first[i];
        jobs[i].npieces = first[i + 1] - first[i];
        jobs[i].total = 0;
        for (size_t k = 0; k < jobs[i].npieces; k++) jobs[i].total += jobs[i].pieces[k].len;
        jobs[i].digest = digests + 16 * i;
        order[i].total = jobs[i].total;
        order[i].index = (size_t)i;
    }
    LanesFn fn = NULL;
#ifdef MD5MB_X86
    fn = lanes == 16 ? md5_x16 : lanes == 8 ? md5_x8 : NULL;
#endif
    int min_vector = lanes == 16 ? MIN_VECTOR_16 : MIN_VECTOR_8;
    Py_BEGIN_ALLOW_THREADS
    qsort(order, (size_t)nfiles, sizeof(Order), longest_first);
    for (Py_ssize_t i = 0; i < nfiles; i++) order_idx[i] = order[i].index;
    run(jobs, order_idx, (size_t)nfiles, lanes, fn, min_vector);
    Py_END_ALLOW_THREADS
    result = PyList_New(nfiles);
    if (result == NULL) goto done;
    for (Py_ssize_t i = 0; i < nfiles; i++) {
        PyObject *digest = PyBytes_FromStringAndSize((const char *)(digests + 16 * i), 16);
        if (digest == NULL) {
            Py_CLEAR(result);
            goto done;
        }
        PyList_SET_ITEM(result, i, digest);
    }
done:
    for (size_t v = 0; v < nviews; v++) PyBuffer_Release(&views[v]);
    PyMem_Free(views);
    PyMem_Free(first);
    PyMem_Free(pieces);
    PyMem_Free(jobs);
    PyMem_Free(order);
    PyMem_Free(order_idx);
    PyMem_Free(digests);
    Py_DECREF(seq);
    return result;
}

static PyMethodDef methods[] = {
    {"md5_many", (PyCFunction)(void (*)(void))md5_many, METH_VARARGS | METH_KEYWORDS, md5_many_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_md5mb",
    "Multi-buffer MD5 (RFC 1321) of many files at once, one file per SIMD lane; see md5_many.", -1, methods,
};

PyMODINIT_FUNC PyInit__md5mb(void) {
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    default_lanes = best_lanes();
    if (PyModule_AddIntConstant(m, "LANES", default_lanes) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}

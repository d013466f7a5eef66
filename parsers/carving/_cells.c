/* The carver's per-page work in C: the same decisions as the pure-Python reference in sqlite_cells.py
 * (Carver._old_page, _scan, _freeblock, _intact, _lost_start, _emit, _parses_at, _lost_start_shape, _types,
 * _candidates, _fits, _value, _leaf), function for function, so the two give identical cells; the test suite
 * compares them on real carve inputs and on mutated pages. Also an index of the live cells of the wanted tables
 * (rowids and a hash of each record's serial types and body) for the de-duplication against live rows: filled
 * page by page into flat arrays, read once per query against a small set of the carved keys.
 *
 * Every read is bounds-checked against the page image; every loop is bounded by the region it walks. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stdint.h>
#include <string.h>

#define MAX_COLUMNS 2000
#define TABLE_LEAF 0x0D

static const int SIZES[10] = {0, 1, 2, 3, 4, 6, 8, 8, 0, 0};

typedef struct {
    int ncols;
    unsigned char *kind; /* 0 rowid alias, 1 TEXT affinity, 2 other */
    int has_alias;
    int wanted;
    PyObject *names; /* tuple of str */
    PyObject *table; /* str */
} Lay;

typedef struct {
    uint64_t *rowids; /* (rowid, record hash) of every live cell */
    unsigned char *hashed; /* per live cell: whether its record hash was taken (no overflow) */
    size_t nrowids, caprowids, caphashed;
} Live;

/* An open-addressing set of 64-bit hashes: one array of keys (0 marks an empty slot; the key 0 itself is kept
 * aside), indexed by the key's own bits mixed once. */
typedef struct {
    uint64_t *keys;
    size_t mask, count;
    int zero;
} Set;

static inline size_t slot_of(uint64_t k, size_t mask) { return (size_t)((k * 0x9E3779B97F4A7C15ULL) >> 20) & mask; }

static int set_init(Set *s, size_t n) {
    size_t cap = 16;
    while (cap < n * 2 + 2) cap *= 2;
    s->count = 0;
    s->zero = 0;
    s->keys = PyMem_Calloc(cap, sizeof(uint64_t));
    s->mask = cap - 1;
    return s->keys ? 0 : -1;
}

/* Adds k; returns 1 when it was there already. */
static int set_add(Set *s, uint64_t k) {
    if (k == 0) {
        int had = s->zero;
        s->zero = 1;
        return had;
    }
    size_t j = slot_of(k, s->mask);
    while (s->keys[j]) {
        if (s->keys[j] == k) return 1;
        j = (j + 1) & s->mask;
    }
    s->keys[j] = k;
    s->count++;
    return 0;
}

/* Adds k to a set that grows (doubling, rehashing) as it fills; -1 on no memory. */
static int set_grow_add(Set *s, uint64_t k) {
    if ((s->count + 1) * 2 > s->mask + 1) {
        Set bigger;
        if (set_init(&bigger, (s->mask + 1)) < 0) return -1;
        bigger.zero = s->zero;
        for (size_t j = 0; j <= s->mask; j++)
            if (s->keys[j]) set_add(&bigger, s->keys[j]);
        PyMem_Free(s->keys);
        *s = bigger;
    }
    return set_add(s, k);
}

static int set_has(const Set *s, uint64_t k) {
    if (k == 0) return s->zero;
    for (size_t j = slot_of(k, s->mask); s->keys[j]; j = (j + 1) & s->mask)
        if (s->keys[j] == k) return 1;
    return 0;
}

static void set_free(Set *s) {
    PyMem_Free(s->keys);
    s->keys = NULL;
}

typedef struct {
    PyObject_HEAD
    int nlay;
    Lay *lays;
    int widest;
    int usable;
    int enc; /* 0 utf-8, 1 utf-16-le, 2 utf-16-be */
    PyObject *overflow; /* callable (first page, bytes needed) -> bytes or None */
    PyObject *factory;  /* Carved */
    Py_ssize_t slots[8]; /* offsets of Carved's eight fields when it is a __slots__ class: filled in place */
    int direct;
    PyObject *rowid_name;
    Live *live; /* per layout */
    Set digests, repeated; /* value digests of the wanted cells made, and those made more than once */
    size_t ndigests;
    /* per call */
    const unsigned char *pg;
    Py_ssize_t plen;
    PyObject *out;
    Py_ssize_t remaining;
    int truncated;
    Py_ssize_t unmapped;
    int failed; /* a Python error is set */
    int kind;   /* region: 0 cell pointer, 1 freeblock, 2 unallocated or scan */
    long prefix; /* the freeblock offset in the order suffix, or -1 */
    PyObject *order; /* the page visit's order prefix (a tuple, borrowed) */
    PyObject *label; /* the page visit's label, or NULL: "freeblock in page N" / "unallocated in page N" */
    PyObject *labels[3]; /* per region kind, made on first use (owned) */
    long pageno;
    int guess; /* scan: look for freed cells behind stale freeblock heads (not in interior pages' stale bytes) */
} Engine;

/* ---- small helpers ------------------------------------------------------------------------------------------ */

static inline int byte_at(Engine *e, Py_ssize_t i) { return (i >= 0 && i < e->plen) ? e->pg[i] : -1; }

/* SQLite varint at i, not reading at or past end; returns 0 when it runs past end. */
static inline int varint(Engine *e, Py_ssize_t i, Py_ssize_t end, uint64_t *value, Py_ssize_t *next) {
    uint64_t v = 0;
    if (end > e->plen) end = e->plen;
    if (i >= 0 && i < end && e->pg[i] < 0x80) { /* one byte: most of them */
        *value = e->pg[i];
        *next = i + 1;
        return 1;
    }
    for (int k = 0; k < 8; k++) {
        if (i + k >= end || i + k < 0) return 0;
        unsigned c = e->pg[i + k];
        v = (v << 7) | (c & 0x7F);
        if (c < 0x80) { *value = v; *next = i + k + 1; return 1; }
    }
    if (i + 8 >= end) return 0;
    *value = (v << 8) | e->pg[i + 8];
    *next = i + 9;
    return 1;
}

static inline uint64_t type_size(uint64_t t) { return t < 10 ? (uint64_t)SIZES[t] : (t - 12) >> 1; }

static inline int fits(uint64_t t, unsigned char kind) {
    if (t == 10 || t == 11) return 0;
    if (kind == 0) return t == 0;
    if (kind == 1) return t == 0 || t >= 12;
    return 1;
}

static int fits_all(const uint64_t *types, int n, const Lay *lay) {
    int m = n < lay->ncols ? n : lay->ncols;
    for (int k = 0; k < m; k++)
        if (!fits(types[k], lay->kind[k])) return 0;
    return 1;
}

/* Serial types from i to end: count in *n; 0 on a reserved or truncated type, too many, or none. */
static int read_types(Engine *e, Py_ssize_t i, Py_ssize_t end, int limit, uint64_t *types, int *n) {
    if (limit > e->widest) limit = e->widest;
    *n = 0;
    if (end - i > 9 * (Py_ssize_t)limit) return 0;
    while (i < end) {
        if (*n >= limit) return 0;
        int c = byte_at(e, i);
        if (c < 0) return 0;
        if (c < 0x80) {
            if (c == 10 || c == 11) return 0;
            types[(*n)++] = (uint64_t)c;
            i += 1;
            continue;
        }
        uint64_t t;
        Py_ssize_t nx;
        if (!varint(e, i, end, &t, &nx) || t > 0xFFFFFFFFULL) return 0;
        types[(*n)++] = t;
        i = nx;
    }
    return i == end && *n > 0;
}

/* _candidates: number of layouts that fit (the first in *which); pool is every layout or only `only`. */
static int candidates(Engine *e, const uint64_t *types, int n, int owner, int only, int *which) {
    if (owner >= 0) {
        Lay *o = &e->lays[owner];
        if (n <= o->ncols && fits_all(types, n, o)) { *which = owner; return 1; }
    }
    int count = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1 && (count || n < 2)) break;
        for (int l = 0; l < e->nlay; l++) {
            if (only >= 0 && l != only) continue;
            Lay *lay = &e->lays[l];
            if ((pass == 0 ? lay->ncols == n : lay->ncols > n) && fits_all(types, n, lay)) {
                if (count == 0) *which = l;
                count++;
            }
        }
    }
    return count;
}

static Py_ssize_t local_size(uint64_t payload, int usable) {
    uint64_t x = (uint64_t)(usable - 35);
    if (payload <= x) return (Py_ssize_t)payload;
    uint64_t m = (uint64_t)(((usable - 12) * 32 / 255) - 23);
    uint64_t k = m + (payload - m) % (uint64_t)(usable - 4);
    return (Py_ssize_t)(k <= x ? k : m);
}

static inline uint64_t mix(uint64_t h, uint64_t w) {
    h ^= w;
    h *= 0x9E3779B97F4A7C15ULL;
    h ^= h >> 29;
    return h;
}

static uint64_t hash_bytes(uint64_t h, const unsigned char *d, Py_ssize_t len) {
    h = mix(h, (uint64_t)len);
    Py_ssize_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, d + i, 8);
        h = mix(h, w);
    }
    uint64_t w = 0;
    for (; i < len; i++) w = (w << 8) | d[i];
    return mix(h, w);
}

/* One column into a value digest: what Python's (type(v), v) equality sees (ints by value whatever their serial
 * type, floats by value with -0.0 as 0.0, text and blobs by their bytes), so equal values hash equally. Returns 0
 * for a NaN (no NaN equals another). d holds the column's bytes (type_size(t) of them). */
static int value_mix(uint64_t *h, int k, uint64_t t, const unsigned char *d) {
    uint64_t x = mix(*h, (uint64_t)k);
    if (t == 0) {
        x = mix(x, 0x6e);
    } else if (t <= 6 || t == 8 || t == 9) {
        int64_t v = 0;
        if (t <= 6) {
            v = (d[0] & 0x80) ? -1 : 0;
            for (int j = 0; j < SIZES[t]; j++) v = (int64_t)(((uint64_t)v << 8) | d[j]);
        } else {
            v = (int64_t)(t - 8);
        }
        x = mix(mix(x, 0x69), (uint64_t)v);
    } else if (t == 7) {
        uint64_t bits = 0;
        for (int j = 0; j < 8; j++) bits = (bits << 8) | d[j];
        double f;
        memcpy(&f, &bits, 8);
        if (f != f) return 0;
        if (f == 0.0) bits = 0;
        x = mix(mix(x, 0x66), bits);
    } else {
        x = hash_bytes(mix(x, (t & 1) ? 0x73 : 0x62), d, (Py_ssize_t)((t - 12) >> 1));
    }
    *h = x;
    return 1;
}

#define DIGEST_SEED 0x243F6A8885A308D3ULL

/* The hash of a record as stored, without its header-length varint: the serial type bytes, then the body
 * (live rows and carved ones alike). */
static uint64_t record_hash(const unsigned char *types, Py_ssize_t ntypes, const unsigned char *body, Py_ssize_t len) {
    return hash_bytes(hash_bytes(0x13198A2E03707344ULL, types, ntypes), body, len);
}

/* ---- the live index: flat arrays filled page by page, read once per query -------------------------------- */

static int push(uint64_t **arr, size_t *n, size_t *cap, uint64_t a, uint64_t b, int two) {
    size_t need = *n + (size_t)(two ? 2 : 1);
    if (need > *cap) {
        size_t cap2 = *cap ? *cap * 2 : 4096;
        while (cap2 < need) cap2 *= 2;
        uint64_t *x = PyMem_Realloc(*arr, cap2 * sizeof(uint64_t));
        if (!x) return -1;
        *arr = x;
        *cap = cap2;
    }
    (*arr)[(*n)++] = a;
    if (two) (*arr)[(*n)++] = b;
    return 0;
}


/* ---- values ------------------------------------------------------------------------------------------------- */

static PyObject BAD_; /* marker, never a Python object handed out */
#define BAD (&BAD_)

static PyObject *value(Engine *e, uint64_t t, const unsigned char *d) {
    if (t == 0) Py_RETURN_NONE;
    if (t <= 6) {
        int size = SIZES[t];
        int64_t v = (d[0] & 0x80) ? -1 : 0;
        for (int k = 0; k < size; k++) v = (int64_t)(((uint64_t)v << 8) | d[k]);
        return PyLong_FromLongLong(v);
    }
    if (t == 7) {
        uint64_t bits = 0;
        for (int k = 0; k < 8; k++) bits = (bits << 8) | d[k];
        double x;
        memcpy(&x, &bits, 8);
        return PyFloat_FromDouble(x);
    }
    if (t == 8 || t == 9) return PyLong_FromLong((long)(t - 8));
    Py_ssize_t size = (Py_ssize_t)((t - 12) >> 1);
    if ((t & 1) == 0) return PyBytes_FromStringAndSize((const char *)d, size);
    PyObject *text;
    if (e->enc == 0) {
        text = PyUnicode_DecodeUTF8((const char *)d, size, NULL);
    } else {
        int order = e->enc == 1 ? -1 : 1;
        text = PyUnicode_DecodeUTF16((const char *)d, size, NULL, &order);
    }
    if (text == NULL) {
        if (PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) { PyErr_Clear(); return BAD; }
        return NULL;
    }
    Py_ssize_t nul = PyUnicode_FindChar(text, 0, 0, PyUnicode_GET_LENGTH(text), 1);
    if (nul == -2) { Py_DECREF(text); return NULL; }
    if (nul >= 0) { Py_DECREF(text); return BAD; }
    return text;
}

/* ---- cells -------------------------------------------------------------------------------------------------- */

static Py_ssize_t intact(Engine *e, Py_ssize_t p, Py_ssize_t end, int owner, int count_unmapped, int strict);
static Py_ssize_t lost_start(Engine *e, Py_ssize_t p, Py_ssize_t end, int owner);

static int lost_start_shape(Engine *e, Py_ssize_t p, Py_ssize_t end) {
    if (p + 4 > end || p < 0 || p + 4 > e->plen) return 0;
    unsigned nxt = (e->pg[p] << 8) | e->pg[p + 1], size = (e->pg[p + 2] << 8) | e->pg[p + 3];
    return size >= 4 && p + (Py_ssize_t)size <= e->plen && (nxt == 0 || (p < (Py_ssize_t)nxt && (Py_ssize_t)nxt < e->plen));
}

static int parses_at(Engine *e, Py_ssize_t p, Py_ssize_t end) {
    uint64_t payload, rowid, hlen;
    Py_ssize_t q, h, r;
    if (!varint(e, p, end, &payload, &q) || payload < 2) return lost_start_shape(e, p, end);
    if (!varint(e, q, end, &rowid, &h)) h = q;
    if (!varint(e, h, end, &hlen, &r) || hlen < 2 || (uint64_t)h + hlen > (uint64_t)end)
        return lost_start_shape(e, p, end);
    uint64_t types[MAX_COLUMNS];
    int n;
    if (read_types(e, r, h + (Py_ssize_t)hlen, MAX_COLUMNS, types, &n)) {
        uint64_t sum = hlen;
        for (int k = 0; k < n; k++) sum += type_size(types[k]);
        if (sum == payload) return 1;
    }
    return lost_start_shape(e, p, end);
}

/* _emit: decode, record, return where the cell ends (0: rejected; -1: a Python error). */
static Py_ssize_t emit(Engine *e, int li, int has_rowid, int64_t rowid, const uint64_t *types, int n, Py_ssize_t h,
                       Py_ssize_t body_at, uint64_t payload, Py_ssize_t end, long unknown, int strict, int aligned,
                       int crossing, Py_ssize_t p, Py_ssize_t types_at, int zero_first) {
    Lay *lay = &e->lays[li];
    Py_ssize_t local = local_size(payload, e->usable);
    Py_ssize_t cell_end = h + local + ((uint64_t)local < payload ? 4 : 0);
    if (aligned) {
        if (cell_end > end && !crossing) return 0;
        if (cell_end < end - 3 && !parses_at(e, cell_end, end)) return 0;
    }
    PyObject *over = NULL;
    if ((uint64_t)local < payload && cell_end <= end && cell_end - 4 >= 0 && cell_end <= e->plen) {
        const unsigned char *b = e->pg + cell_end - 4;
        unsigned long first = ((unsigned long)b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
        over = PyObject_CallFunction(e->overflow, "kK", first, (unsigned long long)(payload - (uint64_t)local));
        if (over == NULL) { e->failed = 1; return -1; }
        if (over != Py_None && !PyBytes_Check(over)) {
            Py_DECREF(over);
            PyErr_SetString(PyExc_TypeError, "overflow must return bytes or None");
            e->failed = 1;
            return -1;
        }
    }
    Py_ssize_t stop = h + local < end ? h + local : end;
    if (stop > e->plen) stop = e->plen;
    Py_ssize_t own = stop > h ? stop - h : 0;
    Py_ssize_t extra = (over && over != Py_None) ? PyBytes_GET_SIZE(over) : 0;
    /* the payload: read in place, or (with overflow pages) copied together with them */
    unsigned char *copy = NULL;
    const unsigned char *data = e->pg + (h < e->plen ? h : e->plen);
    if (extra) {
        copy = PyMem_Malloc((size_t)(own + extra + 1));
        if (!copy) { Py_XDECREF(over); PyErr_NoMemory(); e->failed = 1; return -1; }
        if (own) memcpy(copy, e->pg + h, (size_t)own);
        memcpy(copy + own, PyBytes_AS_STRING(over), (size_t)extra);
        data = copy;
    }
    Py_XDECREF(over);
    Py_ssize_t dlen = own + extra;

    PyObject *values = PyTuple_New(lay->ncols);
    PyObject *missing = NULL, *cell = NULL, *rid_obj = NULL; /* rid_obj: the rowid, made once */
    int miss[MAX_COLUMNS + 1];
    int nmiss = 0, complete = 1, present = 0;
    uint64_t dg = mix(DIGEST_SEED, (uint64_t)lay->ncols);
    if (!values) goto error;
    uint64_t at = (uint64_t)(body_at - h);
    int m = n < lay->ncols ? n : lay->ncols;
    for (int k = 0; k < m; k++) {
        uint64_t t = types[k], size = type_size(t);
        PyObject *v;
        if (k == 0 && unknown >= 0) {
            v = Py_None; Py_INCREF(v);
            miss[nmiss++] = k; complete = 0;
        } else if (lay->kind[k] == 0) {
            if (has_rowid) {
                if (!rid_obj && !(rid_obj = PyLong_FromLongLong(rowid))) goto error;
                v = rid_obj;
                Py_INCREF(v);
            }
            else { v = Py_None; Py_INCREF(v); miss[nmiss++] = k; }
        } else if (at + size > (uint64_t)dlen) {
            v = Py_None; Py_INCREF(v);
            miss[nmiss++] = k; complete = 0;
        } else {
            v = value(e, t, data + at);
            if (v == NULL) goto error;
            if (v == BAD) {
                if (strict) { Py_DECREF(values); Py_XDECREF(rid_obj); PyMem_Free(copy); return 0; }
                v = Py_None; Py_INCREF(v);
                miss[nmiss++] = k; complete = 0;
            } else if (complete && !value_mix(&dg, k, t, data + at)) {
                complete = 0;
            }
        }
        if (lay->kind[k] != 0 && v != Py_None) present++;
        PyTuple_SET_ITEM(values, k, v);
        at += size;
    }
    for (int k = m; k < lay->ncols; k++) {
        Py_INCREF(Py_None);
        PyTuple_SET_ITEM(values, k, Py_None);
        if (lay->kind[k] != 0) value_mix(&dg, k, 0, NULL);
    }
    int rowid_missing = !has_rowid && !lay->has_alias;
    if (present < 2) { Py_DECREF(values); Py_XDECREF(rid_obj); PyMem_Free(copy); return 0; }
    if (lay->wanted) {
        if (PyList_GET_SIZE(e->out) >= e->remaining) {
            e->truncated = 1;
            Py_DECREF(values); Py_XDECREF(rid_obj); PyMem_Free(copy);
            return 0;
        }
        missing = PyTuple_New(nmiss + rowid_missing);
        if (!missing) goto error;
        if (rowid_missing) { Py_INCREF(e->rowid_name); PyTuple_SET_ITEM(missing, 0, e->rowid_name); }
        for (int k = 0; k < nmiss; k++) {
            PyObject *name = PyTuple_GET_ITEM(lay->names, miss[k]);
            Py_INCREF(name);
            PyTuple_SET_ITEM(missing, k + rowid_missing, name);
        }
        PyObject *digest = Py_None, *record = Py_None;
        if (complete && (uint64_t)local == payload) {
            int again = set_grow_add(&e->digests, dg);
            if (again < 0 || (again == 1 && set_grow_add(&e->repeated, dg) < 0)) { PyErr_NoMemory(); goto error; }
            digest = PyLong_FromUnsignedLongLong(dg);
            uint64_t start = (uint64_t)(body_at - h);
            /* the serial type bytes as stored: from types_at on (after a lost first type 0, that byte) */
            unsigned char tb[9 * MAX_COLUMNS + 1];
            Py_ssize_t nt = 0;
            if (zero_first) tb[nt++] = 0;
            if (body_at - types_at > 0 && body_at - types_at <= 9 * MAX_COLUMNS && types_at >= 0 && body_at <= e->plen) {
                memcpy(tb + nt, e->pg + types_at, (size_t)(body_at - types_at));
                nt += body_at - types_at;
            }
            /* a record with every column (not one written before ALTER TABLE ADD COLUMN, which SQLite reads
               with the columns' defaults) is equal to a live one exactly when their stored bytes are */
            record = n == lay->ncols ? PyLong_FromUnsignedLongLong(record_hash(tb, nt, data + start, (Py_ssize_t)(at - start)))
                                     : (Py_INCREF(Py_None), Py_None);
            if (!digest || !record) { Py_XDECREF(digest); Py_XDECREF(record); goto error; }
        } else {
            Py_INCREF(Py_None);
            Py_INCREF(Py_None);
        }
        PyObject *label = e->labels[e->kind];
        if (label == NULL) {
            label = e->label ? (Py_INCREF(e->label), e->label)
                             : PyUnicode_FromFormat(e->kind == 1 ? "freeblock in page %ld" : "unallocated in page %ld",
                                                    e->pageno);
            if (!label) { Py_DECREF(digest); Py_DECREF(record); goto error; }
            e->labels[e->kind] = label;
        }
        Py_ssize_t base = PyTuple_GET_SIZE(e->order);
        PyObject *order = PyTuple_New(base + (e->prefix >= 0 ? 2 : 1));
        if (!order) { Py_DECREF(digest); Py_DECREF(record); goto error; }
        for (Py_ssize_t k = 0; k < base; k++) {
            PyObject *x = PyTuple_GET_ITEM(e->order, k);
            Py_INCREF(x);
            PyTuple_SET_ITEM(order, k, x);
        }
        PyObject *pa = e->prefix >= 0 ? PyLong_FromLong(e->prefix) : NULL, *pb = PyLong_FromSsize_t(p);
        if ((e->prefix >= 0 && !pa) || !pb) { Py_XDECREF(pa); Py_XDECREF(pb); Py_DECREF(order); Py_DECREF(digest); Py_DECREF(record); goto error; }
        if (pa) PyTuple_SET_ITEM(order, base++, pa);
        PyTuple_SET_ITEM(order, base, pb);
        PyObject *rid;
        if (has_rowid) rid = rid_obj ? (Py_INCREF(rid_obj), rid_obj) : PyLong_FromLongLong(rowid);
        else { rid = Py_None; Py_INCREF(rid); }
        if (!rid) { Py_DECREF(order); Py_DECREF(digest); Py_DECREF(record); goto error; }
        /* values, missing and order hold only ints, floats, str, bytes and None: no cycle can go through them,
           so the collector need not visit them */
        PyObject_GC_UnTrack(values);
        if (PyTuple_GET_SIZE(missing)) PyObject_GC_UnTrack(missing);
        PyObject_GC_UnTrack(order);
        PyObject *argv[8] = {lay->table, rid, values, missing, label, order, digest, record};
        if (e->direct) {
            PyTypeObject *tp = (PyTypeObject *)e->factory;
            cell = tp->tp_alloc(tp, 0);
            for (int k = 0; cell && k < 8; k++) {
                Py_INCREF(argv[k]);
                *(PyObject **)((char *)cell + e->slots[k]) = argv[k];
            }
            /* it holds only strings, ints, None and untracked tuples: the collector need not visit it */
            if (cell) PyObject_GC_UnTrack(cell);
        } else {
            cell = PyObject_Vectorcall(e->factory, argv, 8, NULL);
        }
        Py_DECREF(rid);
        Py_DECREF(order);
        Py_DECREF(digest);
        Py_DECREF(record);
        Py_CLEAR(values);
        Py_CLEAR(missing);
        if (!cell) goto error;
        if (PyList_Append(e->out, cell) < 0) goto error;
        Py_DECREF(cell);
    } else {
        Py_DECREF(values);
    }
    Py_XDECREF(rid_obj);
    PyMem_Free(copy);
    if (cell_end <= end) return cell_end > h + 1 ? cell_end : h + 1;
    return end;
error:
    Py_XDECREF(values);
    Py_XDECREF(missing);
    Py_XDECREF(cell);
    Py_XDECREF(rid_obj);
    PyMem_Free(copy);
    e->failed = 1;
    return -1;
}

static Py_ssize_t intact(Engine *e, Py_ssize_t p, Py_ssize_t end, int owner, int count_unmapped, int strict) {
    uint64_t payload, rowid, hlen;
    Py_ssize_t q, h, r;
    if (!varint(e, p, end, &payload, &q) || payload < 2 || payload > (1ULL << 31)) return 0;
    if (!varint(e, q, end, &rowid, &h)) return 0;
    if (!varint(e, h, end, &hlen, &r) || hlen < 2 || hlen > payload || (uint64_t)h + hlen > (uint64_t)e->plen ||
        hlen > (uint64_t)(9 * e->widest + 9))
        return 0;
    uint64_t types[MAX_COLUMNS];
    int n;
    if (!read_types(e, r, h + (Py_ssize_t)hlen, MAX_COLUMNS, types, &n)) return 0;
    uint64_t sum = hlen;
    for (int k = 0; k < n; k++) sum += type_size(types[k]);
    if (sum != payload) return 0;
    int which = -1;
    int count = candidates(e, types, n, owner, -1, &which);
    if (count != 1) {
        if (!count_unmapped) return 0;
        e->unmapped++;
        return h + (Py_ssize_t)hlen;
    }
    return emit(e, which, 1, (int64_t)rowid, types, n, h, h + (Py_ssize_t)hlen, payload, end, -1,
                strict || owner < 0, strict, 1, p, r, 0);
}

static Py_ssize_t lost_start(Engine *e, Py_ssize_t p, Py_ssize_t end, int owner) {
    uint64_t types[MAX_COLUMNS + 1];
    int n;
    /* (a) the header survives after the rowid's last byte(s) */
    Py_ssize_t top = p + 13 < end ? p + 13 : end;
    for (Py_ssize_t h = p + 4; h < top; h++) {
        if (h > p + 4) {
            int skip = byte_at(e, h - 1) >= 0x80 || byte_at(e, h - 1) < 0;
            for (Py_ssize_t j = p + 4; !skip && j < h - 1; j++)
                if (byte_at(e, j) < 0x80) skip = 1;
            if (skip) continue;
        }
        uint64_t hlen;
        Py_ssize_t r;
        if (!varint(e, h, end, &hlen, &r) || hlen < 2 || (uint64_t)h + hlen > (uint64_t)end) continue;
        if (!read_types(e, r, h + (Py_ssize_t)hlen, MAX_COLUMNS, types, &n)) continue;
        int which = -1;
        if (candidates(e, types, n, owner, owner, &which) == 1) {
            uint64_t body = 0;
            for (int k = 0; k < n; k++) body += type_size(types[k]);
            Py_ssize_t got = emit(e, which, 0, 0, types, n, h, h + (Py_ssize_t)hlen, hlen + body, end, -1, 1, 1, 0, p, r, 0);
            if (got) return got;
        }
    }
    /* (b) the header-length byte, or it and the first serial type, are lost */
    int widest = 0;
    for (int l = 0; l < e->nlay; l++)
        if ((owner < 0 || l == owner) && e->lays[l].ncols > widest) widest = e->lays[l].ncols;
    uint64_t read[MAX_COLUMNS];
    Py_ssize_t ends[MAX_COLUMNS];
    int nread = 0;
    Py_ssize_t i = p + 4;
    while (nread < widest && i < end) {
        int c = byte_at(e, i);
        uint64_t t;
        if (c < 0) break;
        if (c < 0x80) { t = (uint64_t)c; i += 1; }
        else {
            Py_ssize_t nx;
            if (!varint(e, i, end, &t, &nx) || t > 0xFFFFFFFFULL) break;
            i = nx;
        }
        if (t == 10 || t == 11) break;
        read[nread] = t;
        ends[nread++] = i;
    }
    for (int l = 0; l < e->nlay; l++) {
        if (owner >= 0 && l != owner) continue;
        Lay *lay = &e->lays[l];
        int nc = lay->ncols;
        for (int lost = 1; lost <= 2; lost++) {
            int count = nc - (lost - 1);
            if ((lost == 2 && nc < 2) || count > nread || count == 0) continue;
            Py_ssize_t at = ends[count - 1];
            Py_ssize_t h = p + 4 - lost;
            long unknown = -1;
            int nt = 0;
            if (lost == 2) {
                if (lay->kind[0] == 0) {
                    types[nt++] = 0;
                } else {
                    uint64_t rest = 0;
                    for (int k = 0; k < count; k++) rest += type_size(read[k]);
                    int64_t size = (int64_t)(end - at) - (int64_t)rest;
                    if (size < 0 || size > 57) continue;
                    unknown = (long)size;
                    types[nt++] = 12 + 2 * (uint64_t)size;
                }
            }
            memcpy(types + nt, read, sizeof(uint64_t) * (size_t)count);
            nt += count;
            if (!fits_all(types, nt, lay)) continue;
            uint64_t hlen = (uint64_t)(at - h), body = 0;
            for (int k = 0; k < nt; k++) body += type_size(types[k]);
            Py_ssize_t got = emit(e, l, 0, 0, types, nt, h, at, hlen + body, end, unknown, 1, 1, 0, p, p + 4,
                                  lost == 2 && lay->kind[0] == 0);
            if (got) return got;
        }
    }
    return 0;
}

/* ---- regions ------------------------------------------------------------------------------------------------ */

static void scan(Engine *e, Py_ssize_t start, Py_ssize_t end, int owner) {
    Py_ssize_t p = start;
    Py_ssize_t span = end - start;
    Py_ssize_t budget = 64 + (span >= 0 ? span / 8 : -((-span + 7) / 8));
    while (p < end - 3 && !e->truncated && !e->failed) {
        Py_ssize_t nxt = intact(e, p, end, owner, 0, 1);
        if (nxt < 0) return;
        if (!nxt && e->guess && budget > 0 && (byte_at(e, p + 2) | byte_at(e, p + 3)) > 0) {
            unsigned size = (e->pg[p + 2] << 8) | e->pg[p + 3], link = (e->pg[p] << 8) | e->pg[p + 1];
            if (size >= 8 && p + (Py_ssize_t)size <= e->plen &&
                (link == 0 || (p < (Py_ssize_t)link && (Py_ssize_t)link < e->plen))) {
                Py_ssize_t stop = p + (Py_ssize_t)size < end ? p + (Py_ssize_t)size : end;
                Py_ssize_t got = lost_start(e, p, stop, owner);
                if (got < 0) return;
                if (got) nxt = p + 4;
                else budget -= 1;
            }
        }
        p = nxt ? nxt : p + 1;
    }
}

static void freeblock(Engine *e, Py_ssize_t start, Py_ssize_t end, int owner) {
    Py_ssize_t p = start;
    int steps = 0;
    while (p < end - 3 && steps < 4096 && !e->truncated && !e->failed) {
        steps++;
        Py_ssize_t nxt = intact(e, p, end, owner, 0, 0);
        if (nxt < 0) return;
        if (!nxt) {
            nxt = lost_start(e, p, end, owner);
            if (nxt < 0) return;
        }
        if (!nxt) { scan(e, p + 4, end, owner); return; }
        p = nxt;
    }
}

static inline unsigned u16(Engine *e, Py_ssize_t at) { return (e->pg[at] << 8) | e->pg[at + 1]; }

static int cmp_u16(const void *a, const void *b) {
    return (int)*(const unsigned *)a - (int)*(const unsigned *)b;
}

/* Index the live cells of a wanted table's leaf page: rowids and record hashes (cells with overflow: rowid only). */
static int index_page(Engine *e, const unsigned *ptrs, int n, int li) {
    for (int k = 0; k < n; k++) {
        uint64_t payload, rowid, hlen;
        Py_ssize_t q, h, r, p = ptrs[k];
        if (!varint(e, p, e->usable, &payload, &q) || !varint(e, q, e->usable, &rowid, &h)) continue;
        Live *lv = &e->live[li];
        size_t at = lv->nrowids / 2;
        if (push(&lv->rowids, &lv->nrowids, &lv->caprowids, rowid, 0, 1) < 0) return -1;
        if (at >= lv->caphashed) {
            size_t cap = lv->caphashed ? lv->caphashed * 2 : 4096;
            unsigned char *x = PyMem_Realloc(lv->hashed, cap);
            if (!x) return -1;
            lv->hashed = x;
            lv->caphashed = cap;
        }
        lv->hashed[at] = 0;
        if ((uint64_t)local_size(payload, e->usable) != payload || (uint64_t)h + payload > (uint64_t)e->usable ||
            (uint64_t)h + payload > (uint64_t)e->plen)
            continue;
        if (!varint(e, h, e->usable, &hlen, &r) || hlen < 2 || hlen > payload) continue;
        uint64_t dg = record_hash(e->pg + r, h + (Py_ssize_t)hlen - r, e->pg + h + hlen, (Py_ssize_t)(payload - hlen));
        lv->rowids[2 * at + 1] = dg;
        lv->hashed[at] = 1;
    }
    return 0;
}

/* _leaf and _old_page */
static void not_leaf(Engine *e, int hdr, int whole, int owner) {
    int type = byte_at(e, hdr);
    if (whole && type >= 0 && type != 0x05 && type != 0x0A && type != 0x02) {
        e->kind = 2;
        e->prefix = -1;
        scan(e, 0, e->usable, owner);
    }
}

static void old_page(Engine *e, int hdr, int owner, int whole, int index) {
    int usable = e->usable;
    if (e->plen < hdr + 8 || byte_at(e, hdr) != TABLE_LEAF) { not_leaf(e, hdr, whole, owner); return; }
    unsigned first_free = u16(e, hdr + 1), ncells = u16(e, hdr + 3), content = u16(e, hdr + 5);
    if (!content) content = 65536;
    Py_ssize_t array_end = hdr + 8 + 2 * (Py_ssize_t)ncells;
    if (array_end > (Py_ssize_t)content || (Py_ssize_t)content > usable || array_end > e->plen) {
        not_leaf(e, hdr, whole, owner);
        return;
    }
    unsigned *ptrs = PyMem_Malloc(sizeof(unsigned) * (ncells + 1));
    if (!ptrs) { PyErr_NoMemory(); e->failed = 1; return; }
    for (unsigned k = 0; k < ncells; k++) {
        ptrs[k] = u16(e, hdr + 8 + 2 * k);
        if (ptrs[k] < content || ptrs[k] >= (unsigned)usable) {
            PyMem_Free(ptrs);
            not_leaf(e, hdr, whole, owner);
            return;
        }
    }
    /* freeblocks: ascending offsets, so no cycle can last */
    Py_ssize_t nfb = 0, maxfb = usable / 4;
    Py_ssize_t *fb = PyMem_Malloc(sizeof(Py_ssize_t) * 2 * (size_t)(maxfb + 1));
    if (!fb) { PyMem_Free(ptrs); PyErr_NoMemory(); e->failed = 1; return; }
    Py_ssize_t seen = 0, at = first_free;
    while (at && nfb < maxfb) {
        if (at <= seen || at + 4 > usable || at + 4 > e->plen) break;
        unsigned nxt = u16(e, at), size = u16(e, at + 2);
        if (size < 4 || at + (Py_ssize_t)size > usable) break;
        fb[2 * nfb] = at;
        fb[2 * nfb + 1] = size;
        nfb++;
        seen = at;
        at = nxt;
    }
    if (index && owner >= 0 && e->lays[owner].wanted) {
        if (index_page(e, ptrs, (int)ncells, owner) < 0) { PyErr_NoMemory(); e->failed = 1; }
    }
    if (whole && !e->failed) {
        qsort(ptrs, ncells, sizeof(unsigned), cmp_u16);
        e->kind = 0;
        e->prefix = -1;
        for (unsigned k = 0; k < ncells && !e->failed; k++)  /* unmapped cells are counted after a truncation too */
            intact(e, ptrs[k], usable, owner, 1, 0);
    }
    e->kind = 1;
    for (Py_ssize_t k = 0; k < nfb && !e->truncated && !e->failed; k++) {
        e->prefix = (long)fb[2 * k];
        freeblock(e, fb[2 * k], fb[2 * k] + fb[2 * k + 1], owner);
    }
    e->kind = 2;
    e->prefix = -1;
    if (!e->truncated && !e->failed) scan(e, array_end, content, owner);
    PyMem_Free(fb);
    PyMem_Free(ptrs);
}

/* ---- the Python type ---------------------------------------------------------------------------------------- */

/* visit(buffers, visits, remaining) -> (cells, unmapped, truncated, repeated digests). Each visit is (buffer index, offset, hdr,
 * owner layout or -1, whole, index, scan start or -1, scan end, page number, label or None, order prefix tuple,
 * guess: whether a scan looks for freed cells behind stale freeblock heads):
 * Carver._old_page of one page image, or with a scan start Carver._scan of one region of it. Visits after the
 * cell limit was reached are skipped, as the Python carver skips them. */
static PyObject *Engine_visit(Engine *e, PyObject *args) {
    PyObject *bufs, *visits;
    Py_ssize_t remaining;
    if (!PyArg_ParseTuple(args, "O!O!n", &PyTuple_Type, &bufs, &PyList_Type, &visits, &remaining)) return NULL;
    if (e->overflow == NULL) { PyErr_SetString(PyExc_RuntimeError, "engine released"); return NULL; }
    Py_ssize_t nb = PyTuple_GET_SIZE(bufs);
    if (nb > 4) { PyErr_SetString(PyExc_ValueError, "too many buffers"); return NULL; }
    Py_buffer views[4];
    Py_ssize_t got = 0;
    for (; got < nb; got++)
        if (PyObject_GetBuffer(PyTuple_GET_ITEM(bufs, got), &views[got], PyBUF_SIMPLE) < 0) goto fail;
    e->out = PyList_New(0);
    if (!e->out) goto fail;
    set_free(&e->digests);
    set_free(&e->repeated);
    if (set_init(&e->digests, 1 << 16) < 0 || set_init(&e->repeated, 16) < 0) { PyErr_NoMemory(); goto fail; }
    e->remaining = remaining;
    e->truncated = 0;
    e->unmapped = 0;
    e->failed = 0;
    for (Py_ssize_t v = 0; v < PyList_GET_SIZE(visits) && !e->truncated && !e->failed; v++) {
        int src, hdr, owner, whole, index, guess;
        Py_ssize_t offset, from, to, size;
        long n;
        PyObject *label, *order;
        if (!PyArg_ParseTuple(PyList_GET_ITEM(visits, v), "innii" "ppnnlOO!p", &src, &offset, &size, &hdr, &owner,
                              &whole, &index, &from, &to, &n, &label, &PyTuple_Type, &order, &guess))
            goto fail;
        if (src < 0 || src >= nb || owner >= e->nlay || offset < 0 || size < 0 || offset + size > views[src].len) {
            PyErr_SetString(PyExc_ValueError, "bad visit");
            goto fail;
        }
        e->pg = (const unsigned char *)views[src].buf + offset;
        e->plen = size;
        e->order = order;
        e->label = label == Py_None ? NULL : label;
        e->pageno = n;
        e->prefix = -1;
        e->kind = 2;
        e->guess = guess;
        if (from >= 0) scan(e, from, to, owner);
        else old_page(e, hdr, owner, whole, index);
        for (int k = 0; k < 3; k++) Py_CLEAR(e->labels[k]);
    }
    if (e->failed) goto fail;
    for (Py_ssize_t k = 0; k < got; k++) PyBuffer_Release(&views[k]);
    e->pg = NULL;
    PyObject *repeated = PySet_New(NULL);
    for (size_t j = 0; repeated && j <= e->repeated.mask + (size_t)1; j++) {
        uint64_t key;
        if (j <= e->repeated.mask) {
            if (!e->repeated.keys[j]) continue;
            key = e->repeated.keys[j];
        } else if (e->repeated.zero) {
            key = 0;
        } else {
            continue;
        }
        PyObject *d = PyLong_FromUnsignedLongLong(key);
        if (!d || PySet_Add(repeated, d) < 0) { Py_XDECREF(d); Py_CLEAR(repeated); break; }
        Py_DECREF(d);
    }
    set_free(&e->digests);
    set_free(&e->repeated);
    memset(&e->digests, 0, sizeof(Set));
    memset(&e->repeated, 0, sizeof(Set));
    if (!repeated) { Py_CLEAR(e->out); return NULL; }
    PyObject *out = e->out;
    e->out = NULL;
    return Py_BuildValue("(NnON)", out, e->unmapped, e->truncated ? Py_True : Py_False, repeated);
fail:
    for (int k = 0; k < 3; k++) Py_CLEAR(e->labels[k]);
    for (Py_ssize_t k = 0; k < got; k++) PyBuffer_Release(&views[k]);
    e->pg = NULL;
    Py_CLEAR(e->out);
    return NULL;
}

static int layout_arg(Engine *e, int li) {
    if (li < 0 || li >= e->nlay) { PyErr_SetString(PyExc_ValueError, "layout"); return -1; }
    return 0;
}

/* live_rowids(layout, rowids) -> {rowid: record hash or None} of those rowids live cells of the table have */
static PyObject *Engine_live_rowids(Engine *e, PyObject *args) {
    int li;
    PyObject *query;
    if (!PyArg_ParseTuple(args, "iO", &li, &query) || layout_arg(e, li) < 0) return NULL;
    PyObject *seq = PySequence_Fast(query, "rowids must be a sequence");
    if (!seq) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    Set s;
    PyObject *out = NULL;
    if (set_init(&s, (size_t)n) < 0) { PyErr_NoMemory(); goto done; }
    for (Py_ssize_t k = 0; k < n; k++) {
        long long v = PyLong_AsLongLong(PySequence_Fast_GET_ITEM(seq, k));
        if (v == -1 && PyErr_Occurred()) goto done;
        set_add(&s, (uint64_t)v);
    }
    out = PyDict_New();
    if (!out) goto done;
    Live *lv = &e->live[li];
    for (size_t k = 0; n && k < lv->nrowids / 2; k++) {
        if (!set_has(&s, lv->rowids[2 * k])) continue;
        PyObject *r = PyLong_FromLongLong((int64_t)lv->rowids[2 * k]);
        PyObject *h = lv->hashed[k] ? PyLong_FromUnsignedLongLong(lv->rowids[2 * k + 1]) : (Py_INCREF(Py_None), Py_None);
        if (!r || !h || PyDict_SetItem(out, r, h) < 0) { Py_XDECREF(r); Py_XDECREF(h); Py_CLEAR(out); goto done; }
        Py_DECREF(r);
        Py_DECREF(h);
    }
done:
    set_free(&s);
    Py_DECREF(seq);
    return out;
}

/* live_records(layout, hashes) -> {hash: [rowid, ...]} of the live records whose record_hash is one of them */
static PyObject *Engine_live_records(Engine *e, PyObject *args) {
    int li;
    PyObject *query;
    if (!PyArg_ParseTuple(args, "iO", &li, &query) || layout_arg(e, li) < 0) return NULL;
    PyObject *seq = PySequence_Fast(query, "digests must be a sequence");
    if (!seq) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    Set s;
    PyObject *out = NULL;
    if (set_init(&s, (size_t)n) < 0) { PyErr_NoMemory(); goto done; }
    for (Py_ssize_t k = 0; k < n; k++) {
        unsigned long long v = PyLong_AsUnsignedLongLong(PySequence_Fast_GET_ITEM(seq, k));
        if (v == (unsigned long long)-1 && PyErr_Occurred()) goto done;
        set_add(&s, (uint64_t)v);
    }
    out = PyDict_New();
    if (!out) goto done;
    Live *lv = &e->live[li];
    for (size_t k = 0; n && k < lv->nrowids / 2; k++) {
        if (!lv->hashed[k] || !set_has(&s, lv->rowids[2 * k + 1])) continue;
        PyObject *d = PyLong_FromUnsignedLongLong(lv->rowids[2 * k + 1]);
        PyObject *r = PyLong_FromLongLong((int64_t)lv->rowids[2 * k]);
        PyObject *list = d ? PyDict_GetItemWithError(out, d) : NULL;
        int bad = !d || !r || (list == NULL && PyErr_Occurred());
        if (!bad && list == NULL) {
            list = PyList_New(0);
            bad = !list || PyDict_SetItem(out, d, list) < 0;
            Py_XDECREF(list);
        }
        if (!bad) bad = PyList_Append(list, r) < 0;
        Py_XDECREF(d);
        Py_XDECREF(r);
        if (bad) { Py_CLEAR(out); goto done; }
    }
done:
    set_free(&s);
    Py_DECREF(seq);
    return out;
}

/* release(): drops the overflow callback (it refers back to the carver, which refers to the engine); the live
 * index stays usable, visits are no longer possible. */
static PyObject *Engine_release(Engine *e, PyObject *Py_UNUSED(args)) {
    Py_CLEAR(e->overflow);
    Py_RETURN_NONE;
}

static PyObject *Engine_indexed(Engine *e, PyObject *args) {
    int li;
    if (!PyArg_ParseTuple(args, "i", &li) || layout_arg(e, li) < 0) return NULL;
    return PyLong_FromSize_t(e->live[li].nrowids / 2);
}

static void Engine_dealloc(Engine *e) {
    for (int l = 0; l < e->nlay; l++) {
        PyMem_Free(e->lays[l].kind);
        Py_XDECREF(e->lays[l].names);
        Py_XDECREF(e->lays[l].table);
    }
    for (int l = 0; e->live && l < e->nlay; l++) {
        PyMem_Free(e->live[l].rowids);
        PyMem_Free(e->live[l].hashed);
    }
    PyMem_Free(e->lays);
    PyMem_Free(e->live);
    set_free(&e->digests);
    set_free(&e->repeated);
    Py_XDECREF(e->overflow);
    Py_XDECREF(e->factory);
    Py_XDECREF(e->rowid_name);
    Py_XDECREF(e->out);
    Py_TYPE(e)->tp_free((PyObject *)e);
}

/* Engine(layouts, widest, usable, encoding, overflow, factory): layouts is a list of (table, names tuple, kinds
 * bytes, wanted); factory(table, rowid, values, missing, recovered_from, order, digest, record) makes one carved
 * cell. */
static int Engine_init(Engine *e, PyObject *args, PyObject *Py_UNUSED(kw)) {
    PyObject *layouts, *overflow, *factory;
    int widest, usable, enc;
    if (!PyArg_ParseTuple(args, "O!iiiOO", &PyList_Type, &layouts, &widest, &usable, &enc, &overflow, &factory))
        return -1;
    if (e->lays) { PyErr_SetString(PyExc_RuntimeError, "already initialised"); return -1; }
    if (widest < 0 || widest > MAX_COLUMNS || usable < 480 || usable > 65536 || enc < 0 || enc > 2) {
        PyErr_SetString(PyExc_ValueError, "bad engine parameters");
        return -1;
    }
    Py_ssize_t n = PyList_GET_SIZE(layouts);
    e->lays = PyMem_Calloc((size_t)n + 1, sizeof(Lay));
    e->live = PyMem_Calloc((size_t)n + 1, sizeof(Live));
    if (!e->lays || !e->live) { PyErr_NoMemory(); return -1; }
    for (Py_ssize_t l = 0; l < n; l++) {
        PyObject *names, *kinds, *table;
        int wanted;
        if (!PyArg_ParseTuple(PyList_GET_ITEM(layouts, l), "UO!O!p", &table, &PyTuple_Type, &names, &PyBytes_Type, &kinds,
                              &wanted))
            return -1;
        Py_ssize_t nc = PyTuple_GET_SIZE(names);
        if (nc != PyBytes_GET_SIZE(kinds) || nc < 1 || nc > MAX_COLUMNS) {
            PyErr_SetString(PyExc_ValueError, "bad layout");
            return -1;
        }
        Lay *lay = &e->lays[l];
        lay->kind = PyMem_Malloc((size_t)nc);
        if (!lay->kind) { PyErr_NoMemory(); return -1; }
        memcpy(lay->kind, PyBytes_AS_STRING(kinds), (size_t)nc);
        lay->ncols = (int)nc;
        for (Py_ssize_t k = 0; k < nc; k++) if (lay->kind[k] == 0) lay->has_alias = 1;
        lay->wanted = wanted;
        Py_INCREF(names);
        lay->names = names;
        Py_INCREF(table);
        lay->table = table;
        e->nlay = (int)l + 1;
    }
    e->widest = widest;
    e->usable = usable;
    e->enc = enc;
    Py_INCREF(overflow);
    e->overflow = overflow;
    Py_INCREF(factory);
    e->factory = factory;
    /* Carved is a dataclass with __slots__ and a plain __init__ (it only stores its arguments): its objects are
       made by filling the slots, without running __init__. Anything else is called. */
    static const char *fields[8] = {"table", "rowid", "values", "missing", "recovered_from", "order", "digest",
                                    "record"};
    e->direct = PyType_Check(factory) && !PyObject_HasAttrString(factory, "__post_init__");
    for (int k = 0; k < 8 && e->direct; k++) {
        PyObject *d = PyDict_GetItemString(((PyTypeObject *)factory)->tp_dict, fields[k]);
        if (d == NULL || !Py_IS_TYPE(d, &PyMemberDescr_Type) ||
            ((PyMemberDescrObject *)d)->d_member->type != T_OBJECT_EX) {
            e->direct = 0;
            break;
        }
        e->slots[k] = ((PyMemberDescrObject *)d)->d_member->offset;
    }
    e->rowid_name = PyUnicode_FromString("rowid");
    return e->rowid_name ? 0 : -1;
}

static PyMethodDef Engine_methods[] = {
    {"visit", (PyCFunction)Engine_visit, METH_VARARGS,
     "visit(buffers, visits, remaining) -> (cells, unmapped, truncated, digests made more than once)"},
    {"live_rowids", (PyCFunction)Engine_live_rowids, METH_VARARGS,
     "live_rowids(layout, rowids) -> {rowid: record hash or None} of those rowids live cells have"},
    {"live_records", (PyCFunction)Engine_live_records, METH_VARARGS,
     "live_records(layout, digests) -> {digest: [rowid of a live cell whose record hashes to it, ...]}"},
    {"indexed", (PyCFunction)Engine_indexed, METH_VARARGS, "indexed(layout) -> live cells indexed"},
    {"release", (PyCFunction)Engine_release, METH_NOARGS, "release(): drop the overflow callback; no more visits"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject EngineType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "parsers.carving._cells.Engine",
    .tp_basicsize = sizeof(Engine),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Engine_init,
    .tp_dealloc = (destructor)Engine_dealloc,
    .tp_methods = Engine_methods,
    .tp_doc = "The carver's per-page work (see sqlite_cells.py for the reference implementation).",
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_cells", "SQLite cell carving in C.", -1, NULL, NULL, NULL,
                                    NULL, NULL};

PyMODINIT_FUNC PyInit__cells(void) {
    if (PyType_Ready(&EngineType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    Py_INCREF(&EngineType);
    if (PyModule_AddObject(m, "Engine", (PyObject *)&EngineType) < 0) {
        Py_DECREF(&EngineType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}

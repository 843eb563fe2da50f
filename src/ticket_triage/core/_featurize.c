/*
 * ticket_triage.core._featurize: the per-token hot loop of featurisation, in C.
 *
 * hash_ngrams(text, n_features, min_n, max_n[, char_features, char_min, char_max, char_words,
 *             subject_features]) -> (indices: bytes, counts: bytes)
 *
 * Does exactly what the Python path (features.py) does with the default token pattern
 *     re.findall(r"(?u)\w++(?::[\w.\-]++)?|[!?]{2,}|[\U0001F300-\U0001FAFF\u2600-\u27BF]", text)
 * followed by word n-grams joined with one space, MurmurHash3 (x86, 32 bit, seed 0) of each
 * n-gram's UTF-8 bytes, scikit-learn's bucket rule (abs(h) % n_features, with its special case
 * for -2**31), then counting. Up to three blocks share one index space (FeatureConfig.blocks):
 * the word n-grams in [0, n_features); with char_features, scikit-learn's char_wb n-grams
 * (char_min..char_max code points inside each space-padded word, of the first char_words words
 * unless 0) in the next char_features; with
 * subject_features, the word n-grams of the tokens before the first U+001F (the subject mark of
 * combine_fields) in the next subject_features. The result is the sorted unique indices (int64)
 * and their counts (float64) as raw bytes for numpy.frombuffer.
 *
 * score_text(text, ...) scores one ticket against the model's table from the same features;
 * score_batch(texts, ..., scores, unseen) scores a list of them into numpy buffers in one call,
 * with the GIL released, so that threads share one model (see their comments below).
 * new_workspace() makes the reusable buffers and the cache of words' char n-grams that a model's
 * hash_ngrams and score_text calls share (their optional last argument); clean_latin1(text) is
 * text.clean_text for text below U+0100, the step before featurisation.
 *
 * Why C: in CPython the regex, the n-gram strings and one mmh3 call per n-gram cost about 1 us
 * per token, which kept a 70-token e-mail above the 50 us single-ticket target; char n-grams
 * multiply the n-grams per token by about twenty. The Python path stays as the reference and the
 * fallback; tests check that the two agree on real and generated text, and against
 * scikit-learn's HashingVectorizer.
 *
 * "\w" is what CPython's sre uses for str patterns: str.isalnum() or '_'; the white space of
 * char_wb is str.split()'s, str.isspace().
 *
 * Stable ABI (Py_LIMITED_API, 3.11): one build, _featurize.abi3.so, loads on every CPython from
 * 3.11 on, so deploy/cross_compile.py can build it here, against this machine's 3.11 headers, for
 * the Lambda runtime's newer Python. The limited API has no direct view of a str's storage and no
 * Py_UNICODE_IS* macros: the text is read from one UCS4 copy (PyUnicode_AsUCS4Copy), and the
 * character classes of non-ASCII code points come from the interpreter's own str.isalnum and
 * str.isspace (the Unicode database its sre uses), a 256-code-point page at a time, the first
 * time a text holds one (see text_codepoints).
 */
#define PY_SSIZE_T_CLEAN
#define Py_LIMITED_API 0x030B0000
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define LIKELY(condition) __builtin_expect(!!(condition), 1)
#define PREFETCH(address) __builtin_prefetch((address), 0, 0)
#else
#define LIKELY(condition) (condition)
#define PREFETCH(address) ((void)(address))
#endif

static inline uint32_t rotl32(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }

/* MurmurHash3_x86_32, as in scikit-learn's murmurhash3_bytes_s32 and mmh3.hash. */
static uint32_t murmur3_32(const uint8_t *data, Py_ssize_t len)
{
    const uint32_t c1 = 0xcc9e2d51, c2 = 0x1b873593;
    uint32_t h = 0; /* seed 0 */
    Py_ssize_t nblocks = len / 4;
    for (Py_ssize_t i = 0; i < nblocks; i++) {
        uint32_t k;
        memcpy(&k, data + i * 4, 4);
        k *= c1;
        k = rotl32(k, 15);
        k *= c2;
        h ^= k;
        h = rotl32(h, 13);
        h = h * 5 + 0xe6546b64;
    }
    const uint8_t *tail = data + nblocks * 4;
    uint32_t k1 = 0;
    switch (len & 3) {
    case 3:
        k1 ^= (uint32_t)tail[2] << 16; /* fall through */
    case 2:
        k1 ^= (uint32_t)tail[1] << 8; /* fall through */
    case 1:
        k1 ^= tail[0];
        k1 *= c1;
        k1 = rotl32(k1, 15);
        k1 *= c2;
        h ^= k1;
    }
    h ^= (uint32_t)len;
    h ^= h >> 16;
    h *= 0x85ebca6b;
    h ^= h >> 13;
    h *= 0xc2b2ae35;
    h ^= h >> 16;
    return h;
}

static inline int64_t bucket(uint32_t unsigned_hash, int64_t n_features)
{
    int32_t h = (int32_t)unsigned_hash;
    if (h == INT32_MIN)
        return (2147483647LL - (n_features - 1)) % n_features;
    int64_t magnitude = h < 0 ? -(int64_t)h : (int64_t)h;
    /* The same remainder; a mask for the usual power-of-two width costs a cycle, not a
     * division (one per n-gram, and char n-grams are many). */
    if ((n_features & (n_features - 1)) == 0)
        return magnitude & (n_features - 1);
    return magnitude % n_features;
}

/* Per code point: CLASS_WORD (str.isalnum) and CLASS_SPACE (str.isspace), valid for the pages
 * (ch >> 8) whose page_ready is set; page 0 is filled at import. */
#define CLASS_WORD 1
#define CLASS_SPACE 2
#define N_CODE_POINTS 0x110000
static uint8_t classes[N_CODE_POINTS];
static uint8_t page_ready[N_CODE_POINTS >> 8];

/* The classes of the 256 code points of one page, from str.isalnum / str.isspace; 0 or -1. */
static int fill_page(Py_UCS4 page)
{
    for (Py_UCS4 ch = page << 8; ch < (page + 1) << 8; ch++) {
        PyObject *one = PyUnicode_FromOrdinal((int)ch);
        if (!one)
            return -1;
        int flags = 0;
        static const char *const tests[2] = {"isalnum", "isspace"};
        for (int t = 0; t < 2; t++) {
            PyObject *answer = PyObject_CallMethod(one, tests[t], NULL);
            int yes = answer ? PyObject_IsTrue(answer) : -1;
            Py_XDECREF(answer);
            if (yes < 0) {
                Py_DECREF(one);
                return -1;
            }
            flags |= yes << t;
        }
        Py_DECREF(one);
        classes[ch] = (uint8_t)flags;
    }
    page_ready[page] = 1;
    return 0;
}

/*
 * A str's code points as a PyMem_Malloc'ed UCS4 array (PyMem_Free it), with the classes of
 * every page they touch filled in; NULL with an exception set on failure. Needs the GIL: after
 * it, featurize() reads only C memory.
 */
static Py_UCS4 *text_codepoints(PyObject *text, Py_ssize_t *length)
{
    *length = PyUnicode_GetLength(text);
    Py_UCS4 *data = *length < 0 ? NULL : PyUnicode_AsUCS4Copy(text);
    if (!data)
        return NULL;
    for (Py_ssize_t i = 0; i < *length; i++)
        if (data[i] >= 128 && !page_ready[data[i] >> 8] && fill_page(data[i] >> 8) < 0) {
            PyMem_Free(data);
            return NULL;
        }
    return data;
}

static inline int is_space(Py_UCS4 ch) { return classes[ch] & CLASS_SPACE; }
static inline int is_word(Py_UCS4 ch)
{
    if (ch < 128) /* the common case, without the table */
        return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' ||
               (ch >= 'A' && ch <= 'Z');
    return classes[ch] & CLASS_WORD;
}
static inline int is_value(Py_UCS4 ch) { return ch == '.' || ch == '-' || is_word(ch); }
static inline int is_mark(Py_UCS4 ch) { return ch == '!' || ch == '?'; }
static inline int is_emoji(Py_UCS4 ch)
{
    return (ch >= 0x1F300 && ch <= 0x1FAFF) || (ch >= 0x2600 && ch <= 0x27BF);
}

/* Append the UTF-8 encoding of code points [start, end) of the string to out. */
static Py_ssize_t encode_utf8(const Py_UCS4 *data, Py_ssize_t start, Py_ssize_t end,
                              uint8_t *out)
{
    Py_ssize_t n = 0;
    for (Py_ssize_t i = start; i < end; i++) {
        Py_UCS4 ch = data[i];
        if (ch < 0x80) {
            out[n++] = (uint8_t)ch;
        } else if (ch < 0x800) {
            out[n++] = (uint8_t)(0xC0 | (ch >> 6));
            out[n++] = (uint8_t)(0x80 | (ch & 0x3F));
        } else if (ch < 0x10000) {
            out[n++] = (uint8_t)(0xE0 | (ch >> 12));
            out[n++] = (uint8_t)(0x80 | ((ch >> 6) & 0x3F));
            out[n++] = (uint8_t)(0x80 | (ch & 0x3F));
        } else {
            out[n++] = (uint8_t)(0xF0 | (ch >> 18));
            out[n++] = (uint8_t)(0x80 | ((ch >> 12) & 0x3F));
            out[n++] = (uint8_t)(0x80 | ((ch >> 6) & 0x3F));
            out[n++] = (uint8_t)(0x80 | (ch & 0x3F));
        }
    }
    return n;
}

/*
 * Where each block of the hashed space starts (docs: FeatureConfig.blocks): word n-grams at 0,
 * then char_wb n-grams, then the subject's word n-grams. A block of 0 features is absent.
 */
typedef struct {
    int64_t n_features; /* word block */
    int min_n, max_n;
    int64_t char_features; /* char_wb block, after the word block */
    int char_min, char_max;
    Py_ssize_t char_words; /* char n-grams of the first char_words words only; 0: all */
    int64_t subject_features; /* subject word block, after the char block */
} Layout;

static inline int64_t layout_width(const Layout *layout)
{
    return layout->n_features + layout->char_features + layout->subject_features;
}

static inline int block_of(const Layout *layout, int64_t index)
{
    return (index >= layout->n_features) + (index >= layout->n_features + layout->char_features);
}

/* Word n-grams of tokens [first, last) hashed into the block starting at offset. */
static Py_ssize_t word_ngrams(const uint8_t *utf8, const Py_ssize_t *tok_start,
                              const Py_ssize_t *tok_len, Py_ssize_t first, Py_ssize_t last,
                              int min_n, int max_n, int64_t width, int64_t offset,
                              uint8_t *scratch, int64_t *out)
{
    Py_ssize_t filled = 0;
    for (int n = min_n; n <= max_n; n++) {
        for (Py_ssize_t t = first; t + n <= last; t++) {
            uint32_t h;
            if (n == 1) {
                h = murmur3_32(utf8 + tok_start[t], tok_len[t]);
            } else {
                Py_ssize_t size = 0;
                for (int k = 0; k < n; k++) {
                    if (k)
                        scratch[size++] = ' ';
                    memcpy(scratch + size, utf8 + tok_start[t + k], (size_t)tok_len[t + k]);
                    size += tok_len[t + k];
                }
                h = murmur3_32(scratch, size);
            }
            out[filled++] = offset + bucket(h, width);
        }
    }
    return filled;
}

/* Grow *buffer to hold at least need elements of size bytes (never shrinks); 0, or -1 when out
 * of memory (the old buffer stays valid and owned by the caller). */
static int reserve(void **buffer, size_t *capacity, size_t need, size_t size)
{
    if (need <= *capacity)
        return 0;
    size_t grown = *capacity ? *capacity : 64;
    while (grown < need)
        grown *= 2;
    void *larger = realloc(*buffer, grown * size);
    if (!larger)
        return -1;
    *buffer = larger;
    *capacity = grown;
    return 0;
}

/*
 * The char n-grams of words already seen: a ticket's char n-grams depend on each white-space
 * separated word alone (char_wb pads every word by itself), and words repeat across tickets (a
 * help desk's few thousand everyday words make nearly every word of a ticket), so a word met
 * before replays its stored indices instead of encoding and hashing its twenty-odd windows
 * again: the same indices in the same order, hence the same bits as computing them (tested).
 * Open addressing on an FNV-1a hash of the code points. Bounded: once it holds MAX_CACHED_WORDS
 * words (a few MB for everyday words, at most about 25 MB) it starts again empty, so a long-running process keeps the words that
 * are frequent now and ids met once cannot pin memory. Words longer than MAX_CACHED_POINTS
 * (ids, hashes, run-together junk) are rarely met twice and are never stored. score_batch uses
 * one per call (it runs without the GIL); a model's single-ticket calls share the one in its
 * workspace object (new_workspace), under the GIL.
 */
#define CACHE_SLOTS (1 << 16)
#define MAX_CACHED_WORDS (CACHE_SLOTS / 2)
#define MAX_CACHED_POINTS 32

typedef struct {
    uint64_t hash;
    uint32_t points_at, n_points; /* n_points 0: an empty slot */
    uint32_t grams_at, n_grams;
} CachedWord;

typedef struct {
    CachedWord *slots; /* CACHE_SLOTS */
    int char_min, char_max; /* the char block the stored n-grams are for */
    int64_t char_features;
    size_t n_words;
    Py_UCS4 *points;
    size_t points_used, points_capacity;
    uint32_t *grams; /* bucket numbers inside the char block */
    size_t grams_used, grams_capacity;
} WordCache;

static uint64_t word_hash(const Py_UCS4 *data, Py_ssize_t length)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (Py_ssize_t k = 0; k < length; k++) {
        h ^= data[k];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* The slot holding this word, or the empty slot where it would go. */
static CachedWord *cache_slot(const WordCache *cache, const Py_UCS4 *data, Py_ssize_t length,
                              uint64_t hash)
{
    size_t slot = (size_t)((hash ^ (hash >> 29)) & (CACHE_SLOTS - 1));
    for (;;) {
        CachedWord *entry = &cache->slots[slot];
        if (!entry->n_points ||
            (entry->hash == hash && entry->n_points == (uint32_t)length &&
             !memcmp(cache->points + entry->points_at, data, sizeof(Py_UCS4) * (size_t)length)))
            return entry;
        slot = (slot + 1) & (CACHE_SLOTS - 1);
    }
}

/* Forget every word (the arenas keep their memory for the next ones). */
static void cache_clear(WordCache *cache)
{
    memset(cache->slots, 0, sizeof(CachedWord) * CACHE_SLOTS);
    cache->n_words = cache->points_used = cache->grams_used = 0;
}

/* Store a word's char n-grams (indices with the block's offset) in the empty slot entry,
 * emptying a full cache first; quietly stores nothing when out of memory (the caller computed
 * them). */
static void cache_store(WordCache *cache, CachedWord *entry, const Py_UCS4 *data,
                        Py_ssize_t length, uint64_t hash, const int64_t *grams, Py_ssize_t n,
                        int64_t offset)
{
    if (cache->n_words >= MAX_CACHED_WORDS) {
        cache_clear(cache);
        entry = cache_slot(cache, data, length, hash);
    }
    if (reserve((void **)&cache->points, &cache->points_capacity,
                cache->points_used + (size_t)length, sizeof(Py_UCS4)) < 0 ||
        reserve((void **)&cache->grams, &cache->grams_capacity, cache->grams_used + (size_t)n,
                sizeof(uint32_t)) < 0)
        return;
    memcpy(cache->points + cache->points_used, data, sizeof(Py_UCS4) * (size_t)length);
    for (Py_ssize_t k = 0; k < n; k++)
        cache->grams[cache->grams_used + (size_t)k] = (uint32_t)(grams[k] - offset);
    *entry = (CachedWord){hash, (uint32_t)cache->points_used, (uint32_t)length,
                          (uint32_t)cache->grams_used, (uint32_t)n};
    cache->points_used += (size_t)length;
    cache->grams_used += (size_t)n;
    cache->n_words++;
}

static void cache_free(WordCache *cache)
{
    if (!cache)
        return;
    free(cache->slots);
    free(cache->points);
    free(cache->grams);
    free(cache);
}

/* The char n-grams of one word, data[start, end), into out (see char_ngrams). */
static Py_ssize_t word_char_ngrams(const Py_UCS4 *data, Py_ssize_t start, Py_ssize_t end,
                                   int min_n, int max_n, int64_t width, int64_t offset,
                                   uint8_t *bytes, Py_ssize_t *offsets, int64_t *out)
{
    Py_ssize_t filled = 0, size = end - start + 2, used = 1;
    bytes[0] = ' ';
    offsets[0] = 0;
    for (Py_ssize_t k = start; k < end; k++) {
        offsets[k - start + 1] = used;
        used += encode_utf8(data, k, k + 1, bytes + used);
    }
    offsets[size - 1] = used;
    bytes[used++] = ' ';
    offsets[size] = used;
    for (int n = min_n; n <= max_n; n++) {
        if (n >= size) {
            out[filled++] = offset + bucket(murmur3_32(bytes, used), width);
            break;
        }
        for (Py_ssize_t o = 0; o + n <= size; o++)
            out[filled++] =
                offset + bucket(murmur3_32(bytes + offsets[o], offsets[o + n] - offsets[o]), width);
    }
    return filled;
}

/*
 * scikit-learn's char_wb analyzer: each white-space separated word (str.split(), so
 * str.isspace()) padded with one space on each side; every window of min_n..max_n code
 * points, and a padded word shorter than n counted once, whole (then no longer n either).
 * bytes and offsets are scratch space for the longest padded word; cache may be NULL.
 */
static Py_ssize_t char_ngrams(const Py_UCS4 *data, Py_ssize_t length, int min_n, int max_n,
                              Py_ssize_t max_words, int64_t width, int64_t offset, uint8_t *bytes,
                              Py_ssize_t *offsets, WordCache *cache, int64_t *out)
{
    Py_ssize_t filled = 0, i = 0, words = 0;
    while (i < length && (!max_words || words < max_words)) {
        if (is_space(data[i])) {
            i++;
            continue;
        }
        Py_ssize_t end = i;
        while (end < length && !is_space(data[end]))
            end++;
        words++;
        if (!cache || end - i > MAX_CACHED_POINTS) {
            filled += word_char_ngrams(data, i, end, min_n, max_n, width, offset, bytes, offsets,
                                       out + filled);
        } else {
            uint64_t hash = word_hash(data + i, end - i);
            CachedWord *entry = cache_slot(cache, data + i, end - i, hash);
            if (entry->n_points) {
                const uint32_t *grams = cache->grams + entry->grams_at;
                for (uint32_t k = 0; k < entry->n_grams; k++)
                    out[filled + k] = offset + grams[k];
                filled += entry->n_grams;
            } else {
                Py_ssize_t n = word_char_ngrams(data, i, end, min_n, max_n, width, offset, bytes,
                                                offsets, out + filled);
                cache_store(cache, entry, data + i, end - i, hash, out + filled, n, offset);
                filled += n;
            }
        }
        i = end;
    }
    return filled;
}

static int compare_pair(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/*
 * What featurize() needs besides the text, kept across the texts of one call so that a batch
 * allocates once, not a dozen times per ticket: the token and n-gram buffers, the table that
 * finds distinct indices, and (score_batch only) the word cache. Zero-initialise; workspace_free.
 */
typedef struct {
    uint8_t *utf8, *scratch;
    Py_ssize_t *tok_start, *tok_len, *offsets;
    size_t utf8_capacity, scratch_capacity, tok_start_capacity, tok_len_capacity;
    size_t offsets_capacity;
    int64_t *indices;
    double *counts;
    uint32_t *used_slots;
    size_t indices_capacity, counts_capacity, used_slots_capacity;
    uint64_t *slots; /* (index << 32) | position, or EMPTY_SLOT; all empty between texts */
    size_t slots_capacity;
    WordCache *cache;
} Workspace;

#define EMPTY_SLOT UINT64_MAX

static void workspace_free(Workspace *work)
{
    free(work->utf8);
    free(work->scratch);
    free(work->tok_start);
    free(work->tok_len);
    free(work->offsets);
    free(work->indices);
    free(work->counts);
    free(work->used_slots);
    free(work->slots);
    cache_free(work->cache);
}

/* Give a workspace a word cache; 0, or -1 when out of memory. */
static int workspace_with_cache(Workspace *work)
{
    work->cache = calloc(1, sizeof(WordCache));
    if (!work->cache)
        return -1;
    work->cache->slots = calloc(CACHE_SLOTS, sizeof(CachedWord));
    return work->cache->slots ? 0 : -1;
}

/* The workspace's cache, emptied first if it holds another char block's n-grams. */
static WordCache *cache_for(Workspace *work, const Layout *layout)
{
    WordCache *cache = work->cache;
    if (!cache || !layout->char_features)
        return NULL;
    if (cache->char_min != layout->char_min || cache->char_max != layout->char_max ||
        cache->char_features != layout->char_features) {
        cache_clear(cache);
        cache->char_min = layout->char_min;
        cache->char_max = layout->char_max;
        cache->char_features = layout->char_features;
    }
    return cache;
}

/*
 * Distinct indices and their counts, in first-seen order, written over work->indices[0..] and
 * work->counts[0..]; returns their number, or -1 when out of memory. An open-addressing table of
 * 8-byte slots (index and position in one word: a ticket's few thousand n-grams probe an L1-sized
 * table), left all empty again afterwards by clearing only the slots used.
 */
static Py_ssize_t count_distinct(Workspace *work, Py_ssize_t filled)
{
    size_t slots = 16;
    int shift = 60; /* Fibonacci hashing: the top log2(slots) bits of index * 2**64 / phi */
    while (slots < (size_t)filled * 2) {
        slots <<= 1;
        shift--;
    }
    if (slots > work->slots_capacity) {
        free(work->slots);
        work->slots = malloc(sizeof(uint64_t) * slots);
        work->slots_capacity = work->slots ? slots : 0;
        if (!work->slots)
            return -1;
        memset(work->slots, 0xff, sizeof(uint64_t) * slots);
    }
    if (reserve((void **)&work->counts, &work->counts_capacity, (size_t)filled + 1,
                sizeof(double)) < 0 ||
        reserve((void **)&work->used_slots, &work->used_slots_capacity, (size_t)filled + 1,
                sizeof(uint32_t)) < 0)
        return -1;
    uint64_t *table = work->slots;
    int64_t *indices = work->indices;
    double *counts = work->counts;
    Py_ssize_t n_unique = 0;
    for (Py_ssize_t k = 0; k < filled; k++) {
        uint64_t index = (uint64_t)indices[k];
        size_t slot = (size_t)((index * 0x9E3779B97F4A7C15ULL) >> shift);
        uint64_t held = table[slot];
        /* No branch on new-or-seen: a third of a ticket's n-grams repeat an earlier one, at
         * random, and a branch on it was mispredicted that often (a third of this loop's time,
         * measured). The slot's key is index (seen) or all ones (empty: key + 1 carries into
         * bit 32); probing on is rare at a quarter to half load. The next distinct entry is
         * written either way and counted only if new. */
        for (;;) {
            uint64_t key = held >> 32;
            uint64_t stop = ((key + 1) >> 32) | (((key ^ index) - 1) >> 63);
            if (LIKELY(stop != 0))
                break;
            slot = (slot + 1) & (slots - 1);
            held = table[slot];
        }
        uint64_t is_new = ((held >> 32) + 1) >> 32;
        uint64_t seen = is_new - 1; /* all ones if seen before */
        uint64_t position = (held & 0xffffffffULL & seen) | ((uint64_t)n_unique & ~seen);
        table[slot] = (index << 32) | position;
        work->used_slots[n_unique] = (uint32_t)slot;
        indices[n_unique] = (int64_t)index;
        counts[n_unique] = 0.0;
        counts[position] += 1.0;
        n_unique += (Py_ssize_t)is_new;
    }
    for (Py_ssize_t k = 0; k < n_unique; k++)
        table[work->used_slots[k]] = EMPTY_SLOT;
    return n_unique;
}

/*
 * The shared core: the distinct hashed indices of one text (its code points, from
 * text_codepoints) over every block of the layout and their counts, in work->indices and
 * work->counts; sorted by index when sorted is set (what SparseRows promises), in first-seen
 * order otherwise (scoring sums them and does not care). Returns the number of distinct
 * indices, or -1 when out of memory. It touches no Python object and allocates with malloc, so
 * score_batch runs it without the GIL.
 */
static Py_ssize_t featurize(const Py_UCS4 *data, Py_ssize_t length, const Layout *layout,
                            int sorted, Workspace *work)
{
    size_t points = (size_t)length + 3;
    /* Tokens as byte ranges of one UTF-8 buffer (at most 4 bytes per code point); an n-gram is
     * at most the whole token buffer plus separators, a padded word at most the whole text's
     * UTF-8 plus two spaces. */
    if (reserve((void **)&work->utf8, &work->utf8_capacity, 4 * points, 1) < 0 ||
        reserve((void **)&work->scratch, &work->scratch_capacity,
                4 * points + (size_t)layout->max_n, 1) < 0 ||
        reserve((void **)&work->tok_start, &work->tok_start_capacity, points,
                sizeof(Py_ssize_t)) < 0 ||
        reserve((void **)&work->tok_len, &work->tok_len_capacity, points, sizeof(Py_ssize_t)) <
            0 ||
        reserve((void **)&work->offsets, &work->offsets_capacity, points, sizeof(Py_ssize_t)) <
            0)
        return -1;
    uint8_t *utf8 = work->utf8;
    Py_ssize_t *tok_start = work->tok_start, *tok_len = work->tok_len;
    /* The subject is what comes before the first SUBJECT_MARK (U+001F); none without one. */
    Py_ssize_t n_tokens = 0, used = 0, i = 0, n_subject = -1;
    while (i < length) {
        Py_UCS4 ch = data[i];
        Py_ssize_t end = i;
        if (is_word(ch)) {
            while (end < length && is_word(data[end]))
                end++;
            if (end + 1 < length && data[end] == ':' &&
                is_value(data[end + 1])) {
                end += 1;
                while (end < length && is_value(data[end]))
                    end++;
            }
        } else if (is_mark(ch)) {
            while (end < length && is_mark(data[end]))
                end++;
            if (end - i < 2) {
                i += 1;
                continue;
            }
        } else if (is_emoji(ch)) {
            end = i + 1;
        } else {
            if (ch == 0x1F && n_subject < 0)
                n_subject = n_tokens;
            i += 1;
            continue;
        }
        tok_start[n_tokens] = used;
        tok_len[n_tokens] = encode_utf8(data, i, end, utf8 + used);
        used += tok_len[n_tokens];
        n_tokens++;
        i = end;
    }
    if (n_subject < 0 || !layout->subject_features)
        n_subject = 0;

    Py_ssize_t n_grams = 0;
    for (int n = layout->min_n; n <= layout->max_n; n++) {
        if (n_tokens >= n)
            n_grams += n_tokens - n + 1;
        if (n_subject >= n)
            n_grams += n_subject - n + 1;
    }
    if (layout->char_features) /* per padded word of w code points, at most w per n */
        n_grams += (Py_ssize_t)(layout->char_max - layout->char_min + 1) * (3 * length + 1);
    if (reserve((void **)&work->indices, &work->indices_capacity, (size_t)n_grams + 1,
                sizeof(int64_t)) < 0)
        return -1;
    int64_t *indices = work->indices;
    Py_ssize_t filled = word_ngrams(utf8, tok_start, tok_len, 0, n_tokens, layout->min_n,
                                    layout->max_n, layout->n_features, 0, work->scratch, indices);
    if (layout->char_features)
        filled += char_ngrams(data, length, layout->char_min, layout->char_max,
                              layout->char_words, layout->char_features, layout->n_features,
                              work->scratch, work->offsets, cache_for(work, layout),
                              indices + filled);
    if (n_subject)
        filled += word_ngrams(utf8, tok_start, tok_len, 0, n_subject, layout->min_n,
                              layout->max_n, layout->subject_features,
                              layout->n_features + layout->char_features, work->scratch,
                              indices + filled);
    Py_ssize_t n_unique = count_distinct(work, filled);
    if (n_unique < 0)
        return -1;
    if (sorted && n_unique > 1) {
        /* Sort (index, count) pairs by index: counts are small integers, exact in a double. */
        int64_t *pairs = malloc(sizeof(int64_t) * 2 * (size_t)n_unique);
        if (!pairs)
            return -1;
        for (Py_ssize_t k = 0; k < n_unique; k++) {
            pairs[2 * k] = indices[k];
            pairs[2 * k + 1] = (int64_t)work->counts[k];
        }
        qsort(pairs, (size_t)n_unique, 2 * sizeof(int64_t), compare_pair);
        for (Py_ssize_t k = 0; k < n_unique; k++) {
            indices[k] = pairs[2 * k];
            work->counts[k] = (double)pairs[2 * k + 1];
        }
        free(pairs);
    }
    return n_unique;
}

static int check_layout(const Layout *layout)
{
    if (layout->n_features < 1 || layout->min_n < 1 || layout->max_n < layout->min_n ||
        layout->char_features < 0 || layout->subject_features < 0 || layout->char_words < 0 ||
        (layout->char_features &&
         (layout->char_min < 1 || layout->char_max < layout->char_min))) {
        PyErr_SetString(PyExc_ValueError,
                        "need n_features >= 1, 1 <= min_n <= max_n, block sizes >= 0 and "
                        "1 <= char_min <= char_max for a char block");
        return 0;
    }
    /* count_distinct packs an index into 32 bits (scikit-learn's indices are int32 anyway). */
    if (layout_width(layout) > ((int64_t)1 << 31)) {
        PyErr_SetString(PyExc_ValueError, "the blocks' widths must add up to at most 2**31");
        return 0;
    }
    return 1;
}

/*
 * new_workspace() -> a capsule holding a Workspace with a word cache, for a model's calls of
 * hash_ngrams and score_text: its buffers and cached words outlive one call. Those two calls
 * hold the GIL throughout, so the threads of one process can share it; score_batch, which
 * releases the GIL, makes its own instead.
 */
#define WORKSPACE_NAME "ticket_triage.core._featurize.Workspace"

static void workspace_destroy(PyObject *capsule)
{
    Workspace *work = PyCapsule_GetPointer(capsule, WORKSPACE_NAME);
    if (work) {
        workspace_free(work);
        free(work);
    }
}

static PyObject *new_workspace(PyObject *self, PyObject *unused)
{
    Workspace *work = calloc(1, sizeof(Workspace));
    if (!work || workspace_with_cache(work) < 0) {
        if (work)
            workspace_free(work);
        free(work);
        return PyErr_NoMemory();
    }
    PyObject *capsule = PyCapsule_New(work, WORKSPACE_NAME, workspace_destroy);
    if (!capsule) {
        workspace_free(work);
        free(work);
    }
    return capsule;
}

/* The Workspace of a new_workspace() capsule, or of *local for None; NULL with TypeError set
 * for anything else. */
static Workspace *workspace_of(PyObject *given, Workspace *local)
{
    if (!given || given == Py_None)
        return local;
    if (!PyCapsule_IsValid(given, WORKSPACE_NAME)) {
        PyErr_SetString(PyExc_TypeError, "workspace must come from new_workspace() or be None");
        return NULL;
    }
    return PyCapsule_GetPointer(given, WORKSPACE_NAME);
}

static PyObject *hash_ngrams(PyObject *self, PyObject *args)
{
    PyObject *text;
    long long n_features, char_features = 0, subject_features = 0;
    int min_n, max_n, char_min = 0, char_max = 0;
    Py_ssize_t char_words = 0;
    PyObject *given = NULL;
    if (!PyArg_ParseTuple(args, "ULii|LiinLO", &text, &n_features, &min_n, &max_n,
                          &char_features, &char_min, &char_max, &char_words, &subject_features,
                          &given))
        return NULL;
    Layout layout = {n_features, min_n,      max_n,     char_features,
                     char_min,   char_max,   char_words, subject_features};
    if (!check_layout(&layout))
        return NULL;
    Workspace local = {0}, *work = workspace_of(given, &local);
    if (!work)
        return NULL;
    Py_ssize_t length;
    Py_UCS4 *data = text_codepoints(text, &length);
    if (!data)
        return NULL;
    Py_ssize_t n_unique = featurize(data, length, &layout, 1, work);
    PyMem_Free(data);
    PyObject *result =
        n_unique < 0 ? PyErr_NoMemory()
                     : Py_BuildValue("(y#y#)", (const char *)work->indices,
                                     (Py_ssize_t)(n_unique * sizeof(int64_t)),
                                     (const char *)work->counts,
                                     (Py_ssize_t)(n_unique * sizeof(double)));
    workspace_free(&local);
    return result;
}

/*
 * score_text(text, n_features, min_n, max_n, table, intercept, sublinear
 *            [, char_features, char_min, char_max, char_words, subject_features])
 *     -> (list of float, float)
 *
 * One ticket's raw linear scores, what TriageModel.scores computes with numpy: table is the
 * model's float32 (width, columns + 1) array (weights times idf times the block's weight, then
 * the idf), intercept its float64 (columns,) array. Features are (1 + log(count) if sublinear
 * else count) times idf, L2-normalised within each block of the layout; the scores are their
 * dot product with the weights plus the intercept.
 *
 * The second value returned is the share of the ticket's distinct features that no training
 * ticket had, the prediction log's input-drift measure: counted in the same pass, so logging a
 * decision never featurises the ticket a second time (0.0 for a ticket without features). The
 * table marks those features with the sign bit of their idf column, which scoring only ever
 * squares (TriageModel's Weights): no second array to read, no extra cache misses.
 *
 * score_batch does the same for a whole list of texts in one call, without the GIL.
 */
/* 1 + log(count) for the small counts nearly every feature has: log() per distinct feature was
 * a third of a long ticket's scoring time once char n-grams multiplied the features. */
#define SUBLINEAR_TABLE 256
static double sublinear_table[SUBLINEAR_TABLE];

static inline double sublinear_tf(double count)
{
    return count < SUBLINEAR_TABLE ? sublinear_table[(int)count] : 1.0 + log(count);
}

/* The table is tens of MB and a ticket's rows are scattered over it: ask for a row a few
 * features before it is summed, so that the memory latencies overlap instead of adding up. */
#define PREFETCH_AHEAD 8


/* What scoring reads besides the text: the layout and the model's table and intercepts. */
typedef struct {
    Layout layout;
    const float *rows;
    Py_ssize_t columns;
    const double *bias;
    int sublinear;
} Scorer;

/* The number of columns, or 0 with ValueError set if the table does not fit the layout. */
static Py_ssize_t check_table(const Layout *layout, const Py_buffer *table,
                              const Py_buffer *intercept)
{
    Py_ssize_t columns = intercept->len / (Py_ssize_t)sizeof(double);
    if (!check_layout(layout))
        return 0;
    if (columns < 1 || table->len != (Py_ssize_t)layout_width(layout) * (columns + 1) * 4) {
        PyErr_SetString(PyExc_ValueError, "table must be float32 (n_features, columns + 1)");
        return 0;
    }
    return columns;
}

/*
 * One text's raw scores into scores[0..columns) and its unseen-feature share into *unseen.
 * score_text and score_batch both call it, so a ticket scores the same bits alone or in a
 * batch. Returns 0, or -1 when out of memory; touches no Python object (runs without the GIL).
 */
/* What a feature adds to its block's sums and squared norm: its row times its tf. */
#define ADD_ROW(f, sums, square)                                                          \
    do {                                                                                  \
        const float *row_ = scorer->rows + indices[f] * (columns + 1);                    \
        n_unseen += signbit(row_[columns]) != 0;                                          \
        double tf_ = scorer->sublinear ? sublinear_tf(counts[f]) : counts[f];             \
        double weighted_ = tf_ * (double)row_[columns];                                   \
        square += weighted_ * weighted_;                                                  \
        for (Py_ssize_t k_ = 0; k_ < columns; k_++)                                       \
            sums[k_] += tf_ * (double)row_[k_];                                           \
    } while (0)

#define LOCAL_COLUMNS 16

/*
 * Every feature's tf-weighted row into its block's sums (acc, 3 x columns) and squared norm
 * (squares); returns how many features training never saw (see score_text). A block's features
 * are one run (featurize emits the word, char and subject n-grams in turn and keeps first-seen
 * order), summed in two interleaved sets of locals and added at the run's end: a running sum
 * kept in memory (acc) made every feature wait for the previous one's store, and one set of
 * registers for the previous one's add. columns is a constant where it is inlined for the
 * usual two heads, so the compiler unrolls the row; scoring a ticket alone or in a batch runs
 * this same code, so the two give the same bits.
 */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((always_inline))
#endif
static inline Py_ssize_t sum_rows(const Scorer *scorer, const int64_t *indices,
                                  const double *counts, Py_ssize_t n_unique, Py_ssize_t columns,
                                  double *acc, double *squares)
{
    const Layout *layout = &scorer->layout;
    Py_ssize_t n_unseen = 0, f = 0;
    while (f < n_unique) {
        int block = block_of(layout, indices[f]);
        Py_ssize_t end = f + 1;
        while (end < n_unique && block_of(layout, indices[end]) == block)
            end++;
        double even[LOCAL_COLUMNS] = {0.0}, odd[LOCAL_COLUMNS] = {0.0};
        double square_even = 0.0, square_odd = 0.0;
        for (; f + 1 < end; f += 2) {
            if (f + PREFETCH_AHEAD + 1 < n_unique) {
                PREFETCH(scorer->rows + indices[f + PREFETCH_AHEAD] * (columns + 1));
                PREFETCH(scorer->rows + indices[f + PREFETCH_AHEAD + 1] * (columns + 1));
            }
            ADD_ROW(f, even, square_even);
            ADD_ROW(f + 1, odd, square_odd);
        }
        if (f < end) {
            ADD_ROW(f, even, square_even);
            f++;
        }
        for (Py_ssize_t k = 0; k < columns; k++)
            acc[block * columns + k] += even[k] + odd[k];
        squares[block] += square_even + square_odd;
    }
    return n_unseen;
}

/* sum_rows for more columns than LOCAL_COLUMNS (a head of dozens of intents): straight into
 * acc, in the same order. */
static Py_ssize_t sum_rows_wide(const Scorer *scorer, const int64_t *indices,
                                const double *counts, Py_ssize_t n_unique, Py_ssize_t columns,
                                double *acc, double *squares)
{
    Py_ssize_t n_unseen = 0;
    for (Py_ssize_t f = 0; f < n_unique; f++) {
        if (f + PREFETCH_AHEAD < n_unique)
            PREFETCH(scorer->rows + indices[f + PREFETCH_AHEAD] * (columns + 1));
        int block = block_of(&scorer->layout, indices[f]);
        ADD_ROW(f, (acc + block * columns), squares[block]);
    }
    return n_unseen;
}

static int score_into(const Scorer *scorer, Workspace *work, const Py_UCS4 *data,
                      Py_ssize_t length, double *scores, double *unseen)
{
    const Layout *layout = &scorer->layout;
    const Py_ssize_t columns = scorer->columns;
    Py_ssize_t n_unique = featurize(data, length, layout, 0, work);
    if (n_unique < 0)
        return -1;
    const int64_t *indices = work->indices;
    const double *counts = work->counts;
    double *acc = calloc(3 * (size_t)columns, sizeof(double)); /* per block */
    if (!acc)
        return -1;
    double squares[3] = {0.0, 0.0, 0.0};
    /* A constant width for the usual two heads (4 topics + 3 urgencies) lets the compiler unroll
     * and vectorise the row sums; the same operations in the same order either way. */
    Py_ssize_t n_unseen =
        columns == 7            ? sum_rows(scorer, indices, counts, n_unique, 7, acc, squares)
        : columns <= LOCAL_COLUMNS ? sum_rows(scorer, indices, counts, n_unique, columns, acc, squares)
                                   : sum_rows_wide(scorer, indices, counts, n_unique, columns, acc,
                                                   squares);
    for (Py_ssize_t k = 0; k < columns; k++) {
        double score = scorer->bias[k];
        for (int block = 0; block < 3; block++)
            if (squares[block] > 0)
                score += acc[block * columns + k] / sqrt(squares[block]);
        scores[k] = score;
    }
    *unseen = n_unique ? (double)n_unseen / (double)n_unique : 0.0;
    free(acc);
    return 0;
}

static PyObject *score_text(PyObject *self, PyObject *args)
{
    PyObject *text;
    long long n_features, char_features = 0, subject_features = 0;
    int min_n, max_n, sublinear, char_min = 0, char_max = 0;
    Py_ssize_t char_words = 0;
    Py_buffer table, intercept;
    PyObject *given = NULL;
    if (!PyArg_ParseTuple(args, "ULiiy*y*p|LiinLO", &text, &n_features, &min_n, &max_n, &table,
                          &intercept, &sublinear, &char_features, &char_min, &char_max,
                          &char_words, &subject_features, &given))
        return NULL;
    Layout layout = {n_features, min_n,      max_n,     char_features,
                     char_min,   char_max,   char_words, subject_features};
    PyObject *result = NULL, *scores = NULL;
    double *values = NULL, unseen;
    Py_ssize_t columns = check_table(&layout, &table, &intercept);
    if (!columns)
        goto done;
    Scorer scorer = {layout, table.buf, columns, intercept.buf, sublinear};
    Workspace local = {0}, *work = workspace_of(given, &local);
    if (!work)
        goto done;
    Py_ssize_t length;
    Py_UCS4 *data = text_codepoints(text, &length);
    if (!data)
        goto done;
    values = malloc(sizeof(double) * (size_t)columns);
    int failed = !values || score_into(&scorer, work, data, length, values, &unseen) < 0;
    workspace_free(&local);
    PyMem_Free(data);
    if (failed) {
        PyErr_NoMemory();
        goto done;
    }
    scores = PyList_New(columns);
    if (!scores)
        goto done;
    for (Py_ssize_t k = 0; k < columns; k++) {
        PyObject *value = PyFloat_FromDouble(values[k]);
        if (!value)
            goto done;
        PyList_SetItem(scores, k, value); /* steals value; cannot fail for k < columns */
    }
    result = Py_BuildValue("(Od)", scores, unseen);
done:
    Py_XDECREF(scores);
    free(values);
    PyBuffer_Release(&table);
    PyBuffer_Release(&intercept);
    return result;
}

/*
 * score_batch(texts, n_features, min_n, max_n, table, intercept, sublinear, scores, unseen
 *             [, char_features, char_min, char_max, char_words, subject_features]) -> None
 *
 * score_text for every text of a list in one call: the raw scores into the writable float64
 * buffer scores, row-major (len(texts), columns), the unseen-feature shares into the float64
 * buffer unseen (len(texts),). The texts are copied to code points and the GIL released for
 * the whole pure-C part, so threads scoring batches share one model instead of copying it into
 * worker processes; each ticket's numbers are exactly score_text's.
 */
static PyObject *score_batch(PyObject *self, PyObject *args)
{
    PyObject *texts;
    long long n_features, char_features = 0, subject_features = 0;
    int min_n, max_n, sublinear, char_min = 0, char_max = 0;
    Py_ssize_t char_words = 0;
    Py_buffer table, intercept, scores, unseen;
    if (!PyArg_ParseTuple(args, "O!Liiy*y*pw*w*|LiinL", &PyList_Type, &texts, &n_features,
                          &min_n, &max_n, &table, &intercept, &sublinear, &scores, &unseen,
                          &char_features, &char_min, &char_max, &char_words, &subject_features))
        return NULL;
    Layout layout = {n_features, min_n,      max_n,     char_features,
                     char_min,   char_max,   char_words, subject_features};
    PyObject *result = NULL;
    Py_UCS4 **data = NULL;
    Py_ssize_t *lengths = NULL;
    Py_ssize_t n_texts = PyList_Size(texts), n_held = 0;
    Py_ssize_t columns = check_table(&layout, &table, &intercept);
    if (!columns)
        goto done;
    if (scores.len != n_texts * columns * (Py_ssize_t)sizeof(double) ||
        unseen.len != n_texts * (Py_ssize_t)sizeof(double)) {
        PyErr_SetString(PyExc_ValueError,
                        "scores must be float64 (len(texts), columns), unseen (len(texts),)");
        goto done;
    }
    /* Every text's code points first, with the GIL (text_codepoints asks the interpreter about
     * unseen Unicode pages); the copies also keep another thread's list changes out. */
    data = malloc(sizeof(Py_UCS4 *) * ((size_t)n_texts + 1));
    lengths = malloc(sizeof(Py_ssize_t) * ((size_t)n_texts + 1));
    if (!data || !lengths) {
        PyErr_NoMemory();
        goto done;
    }
    for (; n_held < n_texts; n_held++) {
        PyObject *text = PyList_GetItem(texts, n_held);
        if (!PyUnicode_Check(text)) {
            PyErr_Format(PyExc_TypeError, "texts[%zd] must be str", n_held);
            goto done;
        }
        data[n_held] = text_codepoints(text, &lengths[n_held]);
        if (!data[n_held])
            goto done;
    }
    Scorer scorer = {layout, table.buf, columns, intercept.buf, sublinear};
    Workspace work = {0};
    int failed = 0;
    Py_BEGIN_ALLOW_THREADS
    failed = layout.char_features && workspace_with_cache(&work) < 0;
    for (Py_ssize_t i = 0; i < n_texts && !failed; i++)
        failed = score_into(&scorer, &work, data[i], lengths[i],
                            (double *)scores.buf + i * columns, (double *)unseen.buf + i) < 0;
    workspace_free(&work);
    Py_END_ALLOW_THREADS
    if (failed) {
        PyErr_NoMemory();
        goto done;
    }
    result = Py_NewRef(Py_None);
done:
    for (Py_ssize_t i = 0; data && i < n_held; i++)
        PyMem_Free(data[i]);
    free(data);
    free(lengths);
    PyBuffer_Release(&table);
    PyBuffer_Release(&intercept);
    PyBuffer_Release(&scores);
    PyBuffer_Release(&unseen);
    return result;
}

/*
 * clean_latin1(text) -> str or None
 *
 * clean_text (text.py) of a str whose code points are all below U+0100 (ASCII, and the
 * accented letters of Western European tickets), None for any other (the Python path keeps
 * NFKC and the rest of Unicode). Cleaning was a quarter of a long ticket's scoring time in
 * Python, a few regex scans and a split and join per field; here it is four passes over one
 * buffer, with the same steps in the same order: lower-case; "\n", "\r", "\t" written as two
 * characters become a space; URLs (the pattern _URL, a scheme and "://" or "www.", from a word
 * boundary to the next white space) become a space; control characters become a space; white
 * space runs become one space, none at either end. The character classes are the interpreter's
 * (the page 0 of classes, from str.isalnum and str.isspace, which is what its regexes use).
 * NFKC changes none of these code points except the few of NFKC_CHANGES, for which the Python
 * path runs; NO-BREAK SPACE becomes a space under NFKC and is white space anyway. Tested against
 * the Python path on every shared ticket, on each of the 256 code points and on generated text.
 */
static inline int nfkc_changes(Py_UCS4 ch)
{
    /* The code points below U+0100 whose lower-case form NFKC changes (ª ² µ ¼ ...), but
     * U+00A0; a test recomputes the list with unicodedata. */
    switch (ch) {
    case 0xa8: case 0xaa: case 0xaf: case 0xb2: case 0xb3: case 0xb4: case 0xb5:
    case 0xb8: case 0xb9: case 0xba: case 0xbc: case 0xbd: case 0xbe:
        return 1;
    default:
        return 0;
    }
}
static inline int is_control(Py_UCS4 ch)
{
    return ch <= 0x08 || ch == 0x0b || ch == 0x0c || (ch >= 0x0e && ch <= 0x1f) ||
           (ch >= 0x7f && ch <= 0x9f);
}
static inline int scheme_char(Py_UCS4 ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '+' || ch == '.' ||
           ch == '-';
}

/* Where the URL that starts at text[i] ends (the next white space), or -1 if none starts
 * there: _URL's "\b[a-z][a-z0-9+.\-]*://\S+" or "\bwww\.\S+" on lower-cased text. */
static Py_ssize_t url_end(const uint8_t *text, Py_ssize_t n, Py_ssize_t i)
{
    if (text[i] < 'a' || text[i] > 'z' || (i > 0 && is_word(text[i - 1])))
        return -1;
    Py_ssize_t k = i + 1;
    while (k < n && scheme_char(text[k]))
        k++;
    /* Either alternative, with the one character \S+ needs after it (the scheme's run cannot
     * backtrack into "://": ':' is not a scheme character); both then run to white space. */
    Py_ssize_t rest = -1;
    if (k + 3 < n && !memcmp(text + k, "://", 3) && !is_space(text[k + 3]))
        rest = k + 3;
    else if (i + 4 < n && !memcmp(text + i, "www.", 4) && !is_space(text[i + 4]))
        rest = i + 4;
    if (rest < 0)
        return -1;
    while (rest < n && !is_space(text[rest]))
        rest++;
    return rest;
}

static PyObject *clean_latin1(PyObject *self, PyObject *arg)
{
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "clean_latin1 needs a str");
        return NULL;
    }
    Py_ssize_t size;
    const uint8_t *utf8 = (const uint8_t *)PyUnicode_AsUTF8AndSize(arg, &size);
    if (!utf8) {
        if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError))
            return NULL;
        PyErr_Clear(); /* lone surrogates, which clean_python removes */
        Py_RETURN_NONE;
    }
    /* One byte per code point below U+0100: at most size of them. */
    uint8_t *text = malloc((size_t)size + 1), *out = malloc((size_t)size + 1);
    if (!text || !out) {
        free(text);
        free(out);
        return PyErr_NoMemory();
    }
    Py_ssize_t n = 0;
    int escapes = 0;
    for (Py_ssize_t i = 0; i < size; i++) {
        Py_UCS4 ch = utf8[i];
        if (ch >= 0x80) { /* U+0080..U+00FF are C2 xx and C3 xx in UTF-8 */
            if ((ch != 0xc2 && ch != 0xc3) || i + 1 >= size)
                goto not_latin1;
            ch = ((ch & 0x1f) << 6) | (utf8[++i] & 0x3f);
            if (nfkc_changes(ch))
                goto not_latin1;
        }
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 0xc0 && ch <= 0xde && ch != 0xd7))
            ch += 32; /* str.lower() below U+0100 */
        text[n++] = (uint8_t)ch;
        escapes |= ch == '\\';
    }
    if (escapes) { /* _ESCAPED_WHITESPACE: a backslash and n, r or t; left to right */
        Py_ssize_t m = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            if (text[i] == '\\' && i + 1 < n &&
                (text[i + 1] == 'n' || text[i + 1] == 'r' || text[i + 1] == 't')) {
                out[m++] = ' ';
                i++;
            } else {
                out[m++] = text[i];
            }
        }
        uint8_t *swap = text;
        text = out;
        out = swap;
        n = m;
    }
    int urls = 0;
    for (Py_ssize_t i = 0; i + 3 <= n && !urls; i++)
        urls = !memcmp(text + i, "://", 3) || (i + 4 <= n && !memcmp(text + i, "www.", 4));
    if (urls) {
        Py_ssize_t m = 0;
        for (Py_ssize_t i = 0; i < n;) {
            Py_ssize_t end = url_end(text, n, i);
            if (end < 0) {
                out[m++] = text[i++];
            } else {
                out[m++] = ' ';
                i = end;
            }
        }
        uint8_t *swap = text;
        text = out;
        out = swap;
        n = m;
    }
    /* Control characters to spaces, then white space collapsed (" ".join(text.split())). */
    Py_ssize_t m = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        uint8_t ch = text[i];
        if (is_space(ch) || is_control(ch)) {
            if (m && out[m - 1] != ' ')
                out[m++] = ' ';
        } else {
            out[m++] = ch;
        }
    }
    if (m && out[m - 1] == ' ')
        m--;
    PyObject *result = PyUnicode_DecodeLatin1((const char *)out, m, NULL);
    free(text);
    free(out);
    return result;
not_latin1:
    free(text);
    free(out);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"hash_ngrams", hash_ngrams, METH_VARARGS,
     "hash_ngrams(text, n_features, min_n, max_n[, char_features, char_min, char_max,\n"
     "            char_words, subject_features, workspace]) -> (indices bytes, counts bytes)\n\n"
     "Sorted unique hashed n-gram indices (int64) and counts (float64) of a cleaned text over\n"
     "every block, identical to the Python path with the default token pattern."},
    {"clean_latin1", clean_latin1, METH_O,
     "clean_latin1(text) -> str or None\n\n"
     "ticket_triage.core.text.clean_text of a str of code points below U+0100; None for any\n"
     "other str (or one holding the few of those that NFKC changes)."},
    {"new_workspace", new_workspace, METH_NOARGS,
     "new_workspace() -> capsule\n\n"
     "Reusable buffers and a bounded cache of words' char n-grams for hash_ngrams and\n"
     "score_text (their optional last argument); the same features as without it."},
    {"score_text", score_text, METH_VARARGS,
     "score_text(text, n_features, min_n, max_n, table, intercept, sublinear[, char_features,\n"
     "           char_min, char_max, char_words, subject_features, workspace])\n"
     "    -> (scores list, unseen share)\n\n"
     "One ticket's raw linear scores from the model's dense table (see TriageModel.scores),\n"
     "and the share of its distinct features that training never saw."},
    {"score_batch", score_batch, METH_VARARGS,
     "score_batch(texts, n_features, min_n, max_n, table, intercept, sublinear, scores, unseen\n"
     "            [, char_features, char_min, char_max, char_words, subject_features]) -> None\n\n"
     "score_text of every text of a list, into float64 buffers (len(texts), columns) and\n"
     "(len(texts),), with the GIL released while scoring."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_featurize",
    "Compiled featurisation hot loop; see ticket_triage.core.features.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__featurize(void)
{
    for (int count = 1; count < SUBLINEAR_TABLE; count++)
        sublinear_table[count] = 1.0 + log((double)count);
    if (fill_page(0) < 0) /* ASCII and Latin-1, white space included */
        return NULL;
    return PyModule_Create(&module);
}

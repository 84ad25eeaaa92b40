/*
 * The span scanner of scan.py in C: finds the byte spans of the top-level keys
 * and values of a TiC file and of the elements of its `in_network` and
 * `provider_references` arrays, fed the decompressed text chunk by chunk.
 *
 * It keeps the same states, events and error messages as scan.PyScanner,
 * which is the reference; tests compare the two on every file they read.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

enum { KEY = 1, VALUE = 2, ITEM = 3, REFERENCE = 4, ARRAY_OPEN = 5, ARRAY_CLOSE = 6 };

enum {
    S_OPEN, S_KEY_OR_END, S_KEY, S_COLON, S_VALUE_START, S_VALUE, S_AFTER_VALUE,
    S_KEY_EXPECT, S_ELEM_OR_END, S_ELEM, S_AFTER_ELEM, S_ELEM_EXPECT, S_DONE,
    S_ERROR
};

enum { V_CONTAINER, V_STRING, V_BARE };

#define KEY_LIMIT 64

/* Byte classes: what matters inside a container, inside a string, after a bare scalar. */
static unsigned char structure[256];
static unsigned char string_end[256];
static unsigned char bare_end[256];
static unsigned char whitespace[256];

/* Whether none of eight bytes is a quote or a backslash. */
static inline int plain_word(const unsigned char *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t quote = v ^ (ones * '"'), slash = v ^ (ones * '\\');
    return ((((quote - ones) & ~quote) | ((slash - ones) & ~slash)) & highs) == 0;
}

typedef struct {
    PyObject_HEAD
    long long base;     /* absolute offset of the next chunk's first byte */
    int state;
    long long start;    /* absolute start of the key, value or element in progress */
    int kind;
    long long depth;
    int in_string;
    int escape;
    char key[KEY_LIMIT + 2];
    int key_len;
    int array;
    PyObject *error;    /* str or None */
    long long error_offset;
} Scanner;

static int scanner_init(Scanner *self, PyObject *args, PyObject *kwds) {
    static char *names[] = {"start", NULL};
    long long start = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|L", names, &start)) return -1;
    self->base = start;
    self->state = S_OPEN;
    self->start = 0;
    self->kind = V_CONTAINER;
    self->depth = 0;
    self->in_string = 0;
    self->escape = 0;
    self->key_len = 0;
    self->array = ITEM;
    Py_XSETREF(self->error, Py_NewRef(Py_None));
    self->error_offset = -1;
    return 0;
}

static void scanner_dealloc(Scanner *self) {
    Py_XDECREF(self->error);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static void fail(Scanner *self, long long offset, PyObject *message) {
    self->state = S_ERROR;
    self->error_offset = offset;
    Py_XSETREF(self->error, message);
}

/* "expected WHAT at byte N, found 'c'" as PyScanner words it. */
static void expected(Scanner *self, const unsigned char *data, Py_ssize_t at,
                     const char *what) {
    long long offset = self->base + at;
    unsigned char c = data[at];
    PyObject *message;
    if (c < 128) {
        PyObject *ch = PyUnicode_FromOrdinal(c);
        message = ch ? PyUnicode_FromFormat("expected %s at byte %lld, found %R",
                                            what, offset, ch)
                     : NULL;
        Py_XDECREF(ch);
    } else {
        message = PyUnicode_FromFormat("expected %s at byte %lld, found byte 0x%02x",
                                       what, offset, (unsigned int)c);
    }
    if (message == NULL) {
        PyErr_Clear();
        message = Py_NewRef(Py_None);
    }
    fail(self, offset, message);
}

static int emit(PyObject *events, int kind, long long start, long long end) {
    PyObject *event = Py_BuildValue("(iLL)", kind, start, end);
    if (event == NULL) return -1;
    int failed = PyList_Append(events, event);
    Py_DECREF(event);
    return failed;
}

static void begin(Scanner *self, long long start, int kind, int state) {
    self->start = start;
    self->kind = kind;
    self->state = state;
    self->depth = 0;
    self->in_string = kind == V_STRING;
    self->escape = 0;
    if (state == S_KEY) self->key_len = 0;
}

static Py_ssize_t begin_value(Scanner *self, const unsigned char *data, Py_ssize_t at,
                              int state) {
    unsigned char c = data[at];
    if (c == '{' || c == '[') {
        begin(self, self->base + at, V_CONTAINER, state);
        self->depth = 1;
        return at + 1;
    }
    if (c == '"') {
        begin(self, self->base + at, V_STRING, state);
        return at + 1;
    }
    begin(self, self->base + at, V_BARE, state);
    return at;
}

static int complete(Scanner *self, Py_ssize_t end, PyObject *events) {
    long long stop = self->base + end;
    if (self->state == S_KEY) {
        if (self->key_len > 0) self->key_len -= 1; /* the closing quote */
        self->state = S_COLON;
        return emit(events, KEY, self->start, stop);
    }
    if (self->state == S_VALUE) {
        self->state = S_AFTER_VALUE;
        self->key_len = 0;
        return emit(events, VALUE, self->start, stop);
    }
    self->state = S_AFTER_ELEM;
    return emit(events, self->array, self->start, stop);
}

static void add_key(Scanner *self, const unsigned char *data, Py_ssize_t from,
                    Py_ssize_t to) {
    if (self->state != S_KEY || self->key_len > KEY_LIMIT) return;
    Py_ssize_t room = KEY_LIMIT + 1 - self->key_len;
    Py_ssize_t n = to - from < room ? to - from : room;
    memcpy(self->key + self->key_len, data + from, (size_t)n);
    self->key_len += (int)n;
}

/* Move through the value in progress; returns the new position or -1 on error. */
static Py_ssize_t skip_value(Scanner *self, const unsigned char *data, Py_ssize_t at,
                             Py_ssize_t size, PyObject *events) {
    while (at < size) {
        if (self->escape) {
            self->escape = 0;
            at += 1;
            continue;
        }
        if (self->in_string) {
            Py_ssize_t end = at;
            while (end < size && !string_end[data[end]]) end++;
            add_key(self, data, at, end < size ? end + 1 : size);
            if (end >= size) return size;
            if (data[end] == '\\') {
                self->escape = 1;
                at = end + 1;
                continue;
            }
            self->in_string = 0;
            at = end + 1;
            if (self->kind == V_STRING) return complete(self, at, events) ? -1 : at;
            continue;
        }
        if (self->kind == V_BARE) {
            Py_ssize_t end = at;
            while (end < size && !bare_end[data[end]]) end++;
            if (end >= size) return size;
            return complete(self, end, events) ? -1 : end;
        }
        /* Inside a container: the hot loop. */
        long long depth = self->depth;
        while (at < size) {
            unsigned char cls = structure[data[at]];
            if (!cls) {
                at++;
                continue;
            }
            at++;
            if (cls == 1) {
                /* A string: jump to its end unless it runs past the chunk. */
                while (size - at >= 8 && plain_word(data + at)) at += 8;
                while (at < size && !string_end[data[at]]) at++;
                if (at >= size) {
                    self->in_string = 1;
                    break;
                }
                if (data[at] == '\\') {
                    self->in_string = 1;
                    self->escape = 1;
                    at++;
                    break;
                }
                at++;
            } else if (cls == 2) {
                depth++;
            } else if (--depth == 0) {
                self->depth = 0;
                return complete(self, at, events) ? -1 : at;
            }
        }
        self->depth = depth;
    }
    return at;
}

static PyObject *scanner_feed(Scanner *self, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    const unsigned char *data = (const unsigned char *)view.buf;
    Py_ssize_t size = view.len, at = 0;
    long long base = self->base;
    PyObject *events = PyList_New(0);
    if (events == NULL) goto error;

    while (at < size && self->state != S_ERROR) {
        int state = self->state;
        if (state == S_KEY || state == S_VALUE || state == S_ELEM) {
            at = skip_value(self, data, at, size, events);
            if (at < 0) goto error;
            continue;
        }
        while (at < size && whitespace[data[at]]) at++;
        if (at >= size) break;
        unsigned char c = data[at];
        switch (state) {
        case S_OPEN:
            if (c != '{') {
                expected(self, data, at, "'{' to open the file's object");
                break;
            }
            self->state = S_KEY_OR_END;
            at++;
            break;
        case S_KEY_OR_END:
        case S_KEY_EXPECT:
            if (c == '}' && state == S_KEY_OR_END) {
                self->state = S_DONE;
                at++;
            } else if (c == '"') {
                begin(self, base + at, V_STRING, S_KEY);
                at++;
            } else {
                expected(self, data, at, "a key");
            }
            break;
        case S_COLON:
            if (c != ':') {
                expected(self, data, at, "':'");
                break;
            }
            self->state = S_VALUE_START;
            at++;
            break;
        case S_VALUE_START: {
            int array = 0;
            if (self->key_len == 10 && memcmp(self->key, "in_network", 10) == 0)
                array = ITEM;
            else if (self->key_len == 19 &&
                     memcmp(self->key, "provider_references", 19) == 0)
                array = REFERENCE;
            if (array && c == '[') {
                if (emit(events, ARRAY_OPEN, base + at, base + at + 1)) goto error;
                self->array = array;
                self->state = S_ELEM_OR_END;
                at++;
            } else if (c == ',' || c == ']' || c == '}' || c == ':') {
                expected(self, data, at, "a value");
            } else {
                at = begin_value(self, data, at, S_VALUE);
            }
            break;
        }
        case S_AFTER_VALUE:
            if (c == ',') {
                self->state = S_KEY_EXPECT;
            } else if (c == '}') {
                self->state = S_DONE;
            } else {
                expected(self, data, at, "',' or '}' after a value");
                break;
            }
            at++;
            break;
        case S_ELEM_OR_END:
        case S_ELEM_EXPECT:
            if (c == ']' && state == S_ELEM_OR_END) {
                if (emit(events, ARRAY_CLOSE, base + at, base + at + 1)) goto error;
                self->state = S_AFTER_VALUE;
                at++;
            } else if (c == ',' || c == ']' || c == '}' || c == ':') {
                expected(self, data, at, "an array element");
            } else {
                at = begin_value(self, data, at, S_ELEM);
            }
            break;
        case S_AFTER_ELEM:
            if (c == ',') {
                self->state = S_ELEM_EXPECT;
            } else if (c == ']') {
                if (emit(events, ARRAY_CLOSE, base + at, base + at + 1)) goto error;
                self->state = S_AFTER_VALUE;
            } else {
                expected(self, data, at, "',' or ']' after an array element");
                break;
            }
            at++;
            break;
        default: /* S_DONE */
            expected(self, data, at, "nothing after the file's object");
            break;
        }
    }
    self->base += size;
    PyBuffer_Release(&view);
    return events;

error:
    Py_XDECREF(events);
    PyBuffer_Release(&view);
    return NULL;
}

static PyObject *scanner_finish(Scanner *self, PyObject *Py_UNUSED(ignored)) {
    if (self->state != S_DONE && self->state != S_ERROR) {
        PyObject *message = PyUnicode_FromString("the JSON text ends early");
        if (message == NULL) return NULL;
        fail(self, self->base, message);
    }
    Py_RETURN_NONE;
}

static PyObject *scanner_keep_from(Scanner *self, void *Py_UNUSED(closure)) {
    int state = self->state;
    if (state == S_KEY || state == S_VALUE || state == S_ELEM)
        return PyLong_FromLongLong(self->start);
    return PyLong_FromLongLong(self->base);
}

static PyObject *scanner_done(Scanner *self, void *Py_UNUSED(closure)) {
    return PyBool_FromLong(self->state == S_DONE);
}

static PyObject *scanner_error(Scanner *self, void *Py_UNUSED(closure)) {
    return Py_NewRef(self->error ? self->error : Py_None);
}

static PyObject *scanner_error_offset(Scanner *self, void *Py_UNUSED(closure)) {
    return PyLong_FromLongLong(self->error_offset);
}

static PyMethodDef scanner_methods[] = {
    {"feed", (PyCFunction)scanner_feed, METH_O,
     "Scan the next chunk; return the events completed within it."},
    {"finish", (PyCFunction)scanner_finish, METH_NOARGS,
     "Mark the stream ended; an object left open becomes the error."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef scanner_getset[] = {
    {"keep_from", (getter)scanner_keep_from, NULL,
     "The first byte a later event may still need.", NULL},
    {"done", (getter)scanner_done, NULL, "The file's object was closed.", NULL},
    {"error", (getter)scanner_error, NULL, "What broke the structure, or None.", NULL},
    {"error_offset", (getter)scanner_error_offset, NULL, "Where it broke.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject ScannerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "payerbrief.sources.tic.innetwork._scan.Scanner",
    .tp_basicsize = sizeof(Scanner),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The span scanner of scan.PyScanner, in C.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)scanner_init,
    .tp_dealloc = (destructor)scanner_dealloc,
    .tp_methods = scanner_methods,
    .tp_getset = scanner_getset,
};

static struct PyModuleDef scan_module = {
    PyModuleDef_HEAD_INIT, "_scan", "The TiC span scanner in C.", -1, NULL, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__scan(void) {
    structure['"'] = 1;
    structure['{'] = 2;
    structure['['] = 2;
    structure['}'] = 3;
    structure[']'] = 3;
    string_end['"'] = 1;
    string_end['\\'] = 1;
    whitespace[' '] = whitespace['\t'] = whitespace['\r'] = whitespace['\n'] = 1;
    bare_end[' '] = bare_end['\t'] = bare_end['\r'] = bare_end['\n'] = 1;
    bare_end[','] = bare_end[']'] = bare_end['}'] = 1;

    if (PyType_Ready(&ScannerType) < 0) return NULL;
    PyObject *module = PyModule_Create(&scan_module);
    if (module == NULL) return NULL;
    if (PyModule_AddObjectRef(module, "Scanner", (PyObject *)&ScannerType) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}

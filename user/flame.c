// SPDX-License-Identifier: GPL-2.0
/*
 * Off-CPU flame graphs as self-contained SVG. The rows are sorted by their frames before they
 * are merged, so that a row can only continue the last child of a node (one comparison per
 * frame, no search) and children come out in name order, whatever order the rows came in.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "flame.h"
#include "units.h"

#define IMAGE_W	    1200
#define FRAME_H	    16
#define XPAD	    10
#define TOP_H	    56 /* title line, legend line */
#define BOTTOM_H    40 /* details line, footer line */
#define CHAR_W	    7  /* average glyph width at 12 px: what decides how much of a name fits */
#define TEXT_DY	    10.5
#define MIN_SHARE   0.001
#define SEPARATOR   "--"
#define UNKNOWN	    "[unknown]"
#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */

struct kind_value {
	int kind; /* index into tree.kinds */
	uint64_t value;
};

struct node {
	const char *name;
	uint64_t value;
	struct kind_value *kinds; /* largest first once the tree is built: [0] picks the colour */
	int nkinds;
	/* indices into tree.nodes: first and last child, next sibling; 0 is none (root) */
	int child, last, next;
};

struct tree {
	struct node *nodes;
	int n, cap;
	const char **kinds; /* distinct kind names in strcmp order, so that ties break by name */
	int nkinds;
};

struct item {
	const struct flame_row *row;
	int kind;
};

/* ---- the tree ---- */

static int row_depth(const struct flame_row *r)
{
	return r->frames && r->nframes > 0 ? r->nframes : 0;
}

static const char *frame_name(const struct flame_row *r, int i)
{
	const char *s = r->frames[i];

	return s && *s ? s : UNKNOWN;
}

static const char *kind_name(const char *kind)
{
	return kind && *kind ? kind : "other";
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Lexicographic on the frames, a stack before its own extensions: rows sharing a prefix meet. */
static int cmp_item(const void *a, const void *b)
{
	const struct flame_row *x = ((const struct item *)a)->row;
	const struct flame_row *y = ((const struct item *)b)->row;
	int nx = row_depth(x), ny = row_depth(y);

	for (int i = 0; i < nx && i < ny; i++) {
		int c = strcmp(frame_name(x, i), frame_name(y, i));

		if (c)
			return c;
	}
	return (nx > ny) - (nx < ny);
}

static int cmp_kind_value(const void *a, const void *b)
{
	const struct kind_value *x = a, *y = b;

	if (x->value != y->value)
		return x->value < y->value ? 1 : -1;
	return (x->kind > y->kind) - (x->kind < y->kind);
}

/* Sums must not wrap: a wrapped parent would be drawn narrower than its children. */
static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static int collect_kinds(struct tree *t, struct item *items, size_t n)
{
	int k = 0;

	t->kinds = malloc(n * sizeof(*t->kinds));
	if (!t->kinds)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		t->kinds[i] = kind_name(items[i].row->kind);
	qsort(t->kinds, n, sizeof(*t->kinds), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (!k || strcmp(t->kinds[k - 1], t->kinds[i]))
			t->kinds[k++] = t->kinds[i];
	}
	t->nkinds = k;
	for (size_t i = 0; i < n; i++) {
		const char *name = kind_name(items[i].row->kind);
		const char **hit = bsearch(&name, t->kinds, k, sizeof(*t->kinds), cmp_str);

		items[i].kind = (int)(hit - t->kinds);
	}
	return 0;
}

static int add_value(struct node *nd, int kind, uint64_t value)
{
	struct kind_value *kv;

	nd->value = sat_add(nd->value, value);
	for (int i = 0; i < nd->nkinds; i++) {
		if (nd->kinds[i].kind == kind) {
			nd->kinds[i].value = sat_add(nd->kinds[i].value, value);
			return 0;
		}
	}
	kv = realloc(nd->kinds, (nd->nkinds + 1) * sizeof(*kv));
	if (!kv)
		return -ENOMEM;
	nd->kinds = kv;
	kv[nd->nkinds++] = (struct kind_value){.kind = kind, .value = value};
	return 0;
}

/* Appends a node as the last child of parent (parent < 0: the root); its index or -ENOMEM. */
static int new_node(struct tree *t, int parent, const char *name)
{
	if (t->n == t->cap) {
		/* indices are ints: past that, the graph is far too big to draw anyway */
		int cap = t->cap > INT_MAX / 2 ? 0 : t->cap ? 2 * t->cap : 256;
		struct node *nodes = cap ? realloc(t->nodes, cap * sizeof(*nodes)) : NULL;

		if (!nodes)
			return -ENOMEM;
		t->nodes = nodes;
		t->cap = cap;
	}
	memset(&t->nodes[t->n], 0, sizeof(t->nodes[t->n]));
	t->nodes[t->n].name = name;
	if (parent >= 0) {
		struct node *p = &t->nodes[parent];

		if (p->last)
			t->nodes[p->last].next = t->n;
		else
			p->child = t->n;
		p->last = t->n;
	}
	return t->n++;
}

static int merge_row(struct tree *t, const struct item *it)
{
	const struct flame_row *r = it->row;
	int cur = 0, err = add_value(&t->nodes[0], it->kind, r->value);

	for (int i = 0; !err && i < row_depth(r); i++) {
		const char *name = frame_name(r, i);
		int next = t->nodes[cur].last;

		if (!next || strcmp(t->nodes[next].name, name))
			next = new_node(t, cur, name);
		if (next < 0)
			return next;
		cur = next;
		err = add_value(&t->nodes[cur], it->kind, r->value);
	}
	return err;
}

/* Leaves t empty (no root) when no row has a value. Names point into rows. */
static int build(struct tree *t, const struct flame_row *rows, size_t n)
{
	struct item *items = malloc((n ? n : 1) * sizeof(*items));
	size_t m = 0;
	int err = 0;

	if (!items)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (rows[i].value)
			items[m++] = (struct item){.row = &rows[i]};
	}
	if (m) {
		err = collect_kinds(t, items, m);
		if (!err)
			err = new_node(t, -1, "all") < 0 ? -ENOMEM : 0;
	}
	if (m && !err) {
		qsort(items, m, sizeof(*items), cmp_item);
		for (size_t i = 0; i < m && !err; i++)
			err = merge_row(t, &items[i]);
	}
	for (int i = 0; i < t->n && !err; i++)
		qsort(t->nodes[i].kinds, t->nodes[i].nkinds, sizeof(struct kind_value),
		      cmp_kind_value);
	free(items);
	return err;
}

static void tree_free(struct tree *t)
{
	for (int i = 0; i < t->n; i++)
		free(t->nodes[i].kinds);
	free(t->nodes);
	free(t->kinds);
}

/* ---- colours ---- */

enum pal {
	PAL_LOCK,
	PAL_NET,
	PAL_PIPE,
	PAL_POLL,
	PAL_DISK,
	PAL_FAULT,
	PAL_SLEEP,
	PAL_RUNQUEUE,
	PAL_CHILD,
	PAL_IDLE,
	PAL_OTHER, /* also every kind this table does not name */
	PAL_WAKER,
	PAL_SEPARATOR,
	PAL_N,
};

/* A colour family per reason: base plus up to spread, per channel, picked by the name's hash. */
static const struct palette {
	const char *name;
	unsigned char base[3], spread[3];
} palettes[PAL_N] = {
	[PAL_LOCK] = {"lock", {205, 45, 35}, {50, 70, 35}},
	[PAL_NET] = {"net", {55, 160, 70}, {50, 60, 40}},
	[PAL_PIPE] = {"pipe", {40, 160, 150}, {40, 50, 50}},
	[PAL_POLL] = {"poll", {120, 185, 80}, {50, 50, 40}},
	[PAL_DISK] = {"disk", {145, 95, 45}, {45, 40, 25}},
	[PAL_FAULT] = {"fault", {220, 125, 30}, {35, 50, 30}},
	[PAL_SLEEP] = {"sleep", {175, 175, 160}, {45, 45, 45}},
	[PAL_RUNQUEUE] = {"runqueue", {135, 85, 195}, {45, 45, 45}},
	[PAL_CHILD] = {"child", {215, 195, 40}, {35, 45, 40}},
	/* pale and cold: parked workers are there to be seen, not to catch the eye */
	[PAL_IDLE] = {"idle", {200, 210, 225}, {25, 25, 20}},
	[PAL_OTHER] = {"other", {195, 180, 110}, {40, 40, 40}},
	[PAL_WAKER] = {"waker", {65, 110, 210}, {50, 65, 45}},
	[PAL_SEPARATOR] = {SEPARATOR, {150, 150, 150}, {0, 0, 0}},
};

static bool is_separator(const struct node *nd)
{
	return !strcmp(nd->name, SEPARATOR);
}

static enum pal palette_of(const struct tree *t, const struct node *nd, bool waker)
{
	const char *kind = t->kinds[nd->kinds[0].kind];

	if (is_separator(nd))
		return PAL_SEPARATOR;
	if (waker)
		return PAL_WAKER;
	for (int i = 0; i < PAL_OTHER; i++) {
		if (!strcmp(palettes[i].name, kind))
			return (enum pal)i;
	}
	return PAL_OTHER;
}

/*
 * FNV-1a: the same name gets the same shade in every graph, neighbours usually differ. Most of
 * the variation is shared by the three channels (lighter, darker) so that a family keeps its hue.
 */
static void frame_rgb(enum pal pal, const char *name, int rgb[3])
{
	uint32_t h = 2166136261u;
	int shade;

	for (const unsigned char *s = (const unsigned char *)name; *s; s++)
		h = (h ^ *s) * 16777619u;
	shade = 3 * (int)(h >> 24);
	for (int k = 0; k < 3; k++) {
		int tint = (int)((h >> 8 * k) & 0xff);

		rgb[k] = palettes[pal].base[k] +
			 palettes[pal].spread[k] * (shade + tint) / (4 * 255);
	}
}

/* ---- XML text ---- */

/*
 * Length of the character at s if it is valid UTF-8 and a character XML 1.0 allows, else 0.
 * s is NUL-terminated and NUL is no continuation byte, so this never reads past it.
 */
static int xml_char_len(const unsigned char *s)
{
	static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
	uint32_t cp;
	int n;

	if (s[0] < 0x80)
		return s[0] >= 0x20 ? 1 : 0;
	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	n = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	cp = s[0] & (0x7f >> n);
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe ||
	    cp == 0xffff)
		return 0;
	return n;
}

static const char *xml_entity(unsigned char c)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&apos;";
	default:
		return NULL;
	}
}

/* Characters in s as put_xml counts them: a byte it replaces is one. */
static size_t xml_chars(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;

	for (; *p; n++) {
		int len = xml_char_len(p);

		p += len ? len : 1;
	}
	return n;
}

/*
 * Writes at most max characters of s as XML character data; a byte that is no allowed
 * character (broken UTF-8, control characters) becomes U+FFFD so that parsers accept the file.
 * Clean runs go out whole: names rarely need an escape.
 */
static void put_xml(FILE *f, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s, *run = p;

	for (size_t i = 0; *p && i < max; i++) {
		int n = xml_char_len(p);
		const char *ent = n == 1 ? xml_entity(*p) : NULL;

		if (n && !ent) {
			p += n;
			continue;
		}
		fwrite(run, 1, p - run, f);
		fputs(n ? ent : REPLACEMENT, f);
		p += n ? n : 1;
		run = p;
	}
	fwrite(run, 1, p - run, f);
}

/* ---- drawing ---- */

struct plot {
	FILE *f;
	const struct tree *t;
	double total;
	double scale; /* pixels per nanosecond */
	int height;
	int max_depth;
	size_t omitted;
	unsigned used; /* bit per palette drawn, for the legend */
};

static bool too_narrow(const struct plot *p, uint64_t value)
{
	return (double)value < MIN_SHARE * p->total;
}

static int frame_y(const struct plot *p, int depth)
{
	return p->height - BOTTOM_H - (depth + 1) * FRAME_H;
}

static size_t subtree_size(const struct tree *t, int id)
{
	size_t n = 1;

	for (int c = t->nodes[id].child; c; c = t->nodes[c].next)
		n += subtree_size(t, c);
	return n;
}

/* The first pass: how tall the image is, which colours the legend needs, what is left out. */
static void measure(struct plot *p, int id, int depth, bool waker)
{
	const struct node *nd = &p->t->nodes[id];

	if (depth && too_narrow(p, nd->value)) {
		p->omitted += subtree_size(p->t, id);
		return;
	}
	if (depth > p->max_depth)
		p->max_depth = depth;
	p->used |= 1u << palette_of(p->t, nd, waker);
	waker = waker || is_separator(nd);
	for (int c = nd->child; c; c = p->t->nodes[c].next)
		measure(p, c, depth + 1, waker);
}

/* "NAME (12.3 ms, 4.56 %; lock 10.0 ms, net 2.3 ms)": the script reads NAME back up to " (". */
static void put_tooltip(const struct plot *p, const struct node *nd)
{
	char buf[32];

	put_xml(p->f, nd->name, SIZE_MAX);
	fprintf(p->f, " (%s, %.2f %%", fmt_duration(buf, sizeof(buf), nd->value),
		100.0 * (double)nd->value / p->total);
	for (int i = 0; i < nd->nkinds; i++) {
		fputs(i ? ", " : "; ", p->f);
		put_xml(p->f, p->t->kinds[nd->kinds[i].kind], SIZE_MAX);
		fprintf(p->f, " %s", fmt_duration(buf, sizeof(buf), nd->kinds[i].value));
	}
	fputc(')', p->f);
}

/* The same rule as label() in the script, which redoes labels on zoom. */
static void put_label(FILE *f, const char *name, double x, int y, double w)
{
	long fit = (long)((w - 6) / CHAR_W);

	if (fit < 3)
		return;
	fprintf(f, "<text x=\"%.2f\" y=\"%.1f\">", x + 3, y + TEXT_DY);
	if (xml_chars(name) <= (size_t)fit) {
		put_xml(f, name, SIZE_MAX);
	} else {
		put_xml(f, name, fit - 2);
		fputs("..", f);
	}
	fputs("</text>", f);
}

static void put_frame(struct plot *p, const struct node *nd, int depth, double x, double w,
		      bool waker)
{
	enum pal pal = palette_of(p->t, nd, waker);
	int y = frame_y(p, depth), rgb[3];

	frame_rgb(pal, nd->name, rgb);
	fputs("<g class=\"f\"><title>", p->f);
	put_tooltip(p, nd);
	fprintf(p->f,
		"</title><rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" rx=\"2\" "
		"fill=\"rgb(%d,%d,%d)\"/>",
		x, y, w, FRAME_H - 1, rgb[0], rgb[1], rgb[2]);
	put_label(p->f, nd->name, x, y, w);
	fputs("</g>\n", p->f);
}

/* limit: where the parent ends; only saturated sums could make children reach past it. */
static void draw(struct plot *p, int id, int depth, double x, double limit, bool waker)
{
	const struct node *nd = &p->t->nodes[id];
	double w = (double)nd->value * p->scale;

	if (depth && too_narrow(p, nd->value))
		return;
	if (w > limit - x)
		w = limit - x;
	put_frame(p, nd, depth, x, w, waker);
	waker = waker || is_separator(nd);
	for (int c = nd->child; c; c = p->t->nodes[c].next) {
		draw(p, c, depth + 1, x, x + w, waker);
		x += (double)p->t->nodes[c].value * p->scale;
	}
}

/* ---- the document ---- */

static const char style[] =
	"<style type=\"text/css\"><![CDATA[\n"
	"text { font-family: Verdana, \"DejaVu Sans\", sans-serif; font-size: 12px; fill: #000; }\n"
	"#title { font-size: 17px; text-anchor: middle; }\n"
	"#search, #matched { text-anchor: end; }\n"
	"#unzoom, #search, g.f { cursor: pointer; }\n"
	"#footer { font-size: 10px; fill: #555; }\n"
	"g.f:hover rect { stroke: #000; stroke-width: 0.5; }\n"
	"g.anc rect { fill-opacity: 0.6; }\n"
	".hidden { display: none; }\n"
	"]]></style>\n"
	"<defs><linearGradient id=\"bg\" x1=\"0\" y1=\"0\" x2=\"0\" y2=\"1\">"
	"<stop stop-color=\"#f4f4f4\" offset=\"5%\"/><stop stop-color=\"#e4e4ee\" offset=\"95%\"/>"
	"</linearGradient></defs>\n";

static void put_head(FILE *f, const char *title, int height)
{
	fprintf(f,
		"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
		"<svg version=\"1.1\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		"xmlns=\"http://www.w3.org/2000/svg\" "
		"xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n",
		IMAGE_W, height, IMAGE_W, height);
	fputs(style, f);
	fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"url(#bg)\"/>\n",
		IMAGE_W, height);
	fprintf(f, "<text id=\"title\" x=\"%d\" y=\"24\">", IMAGE_W / 2);
	put_xml(f, title ? title : "Off-CPU flame graph", SIZE_MAX);
	fputs("</text>\n", f);
}

static void put_legend(const struct plot *p)
{
	int x = XPAD;

	for (int i = 0; i < PAL_N; i++) {
		const struct palette *c = &palettes[i];

		if (i == PAL_SEPARATOR || !(p->used & 1u << i))
			continue;
		fprintf(p->f,
			"<rect x=\"%d\" y=\"34\" width=\"10\" height=\"10\" "
			"fill=\"rgb(%d,%d,%d)\"/><text x=\"%d\" y=\"44\">%s</text>\n",
			x, c->base[0] + c->spread[0] / 2, c->base[1] + c->spread[1] / 2,
			c->base[2] + c->spread[2] / 2, x + 14, c->name);
		x += 14 + CHAR_W * (int)strlen(c->name) + 16;
	}
}

static void put_controls(const struct plot *p)
{
	int y = p->height - BOTTOM_H + 18;

	fprintf(p->f, "<text id=\"unzoom\" class=\"hidden\" x=\"%d\" y=\"24\">Reset Zoom</text>\n",
		XPAD);
	fprintf(p->f, "<text id=\"search\" x=\"%d\" y=\"24\">Search</text>\n", IMAGE_W - XPAD);
	fprintf(p->f, "<text id=\"details\" x=\"%d\" y=\"%d\"> </text>\n", XPAD, y);
	fprintf(p->f, "<text id=\"matched\" x=\"%d\" y=\"%d\"> </text>\n", IMAGE_W - XPAD, y);
	if (p->omitted)
		fprintf(p->f,
			"<text id=\"footer\" x=\"%d\" y=\"%d\">%zu frame%s narrower than 0.1 %% of "
			"the total not drawn; their time is in their parents</text>\n",
			XPAD, y + 16, p->omitted, p->omitted == 1 ? "" : "s");
}

/*
 * Zoom, search and the details line. The frames carry no extra data: a frame's name is its
 * tooltip up to the last " (", its place is its rect, and zoom finds relatives by geometry
 * (ancestors lie below and span it, descendants lie above and inside it).
 */
static const char script[] =
	"\"use strict\";\n"
	"(function () {\n"
	"\tvar NS = \"http://www.w3.org/2000/svg\", EPS = 0.01, frames = [], root = null;\n"
	"\tvar searching = false, byId = document.getElementById.bind(document);\n"
	"\tvar details = byId(\"details\"), matched = byId(\"matched\");\n"
	"\tvar unzoom = byId(\"unzoom\"), search = byId(\"search\");\n"
	"\n"
	"\tdocument.querySelectorAll(\"g.f\").forEach(function (g) {\n"
	"\t\tvar r = g.querySelector(\"rect\"), tip = g.querySelector(\"title\").textContent;\n"
	"\t\tvar f = { g: g, r: r, t: g.querySelector(\"text\"), tip: tip,\n"
	"\t\t\tchars: Array.from(tip.slice(0, tip.lastIndexOf(\" (\"))),\n"
	"\t\t\tx: +r.getAttribute(\"x\"), y: +r.getAttribute(\"y\"),\n"
	"\t\t\tw: +r.getAttribute(\"width\"), fill: r.getAttribute(\"fill\") };\n"
	"\t\tg.frame = f;\n"
	"\t\tframes.push(f);\n"
	"\t\tif (!root || f.y > root.y)\n"
	"\t\t\troot = f;\n"
	"\t});\n"
	"\n"
	"\tfunction label(f, x, w) {\n"
	"\t\tvar fit = Math.floor((w - 6) / CHAR_W), s = \"\";\n"
	"\t\tif (fit >= 3)\n"
	"\t\t\ts = f.chars.length <= fit ? f.chars.join(\"\") :\n"
	"\t\t\t\tf.chars.slice(0, fit - 2).join(\"\") + \"..\";\n"
	"\t\tif (!f.t && s) {\n"
	"\t\t\tf.t = document.createElementNS(NS, \"text\");\n"
	"\t\t\tf.t.setAttribute(\"y\", (f.y + TEXT_DY).toFixed(1));\n"
	"\t\t\tf.g.appendChild(f.t);\n"
	"\t\t}\n"
	"\t\tif (f.t) {\n"
	"\t\t\tf.t.setAttribute(\"x\", (x + 3).toFixed(2));\n"
	"\t\t\tf.t.textContent = s;\n"
	"\t\t}\n"
	"\t}\n"
	"\n"
	"\tfunction place(f, x, w, ancestor) {\n"
	"\t\tf.g.classList.remove(\"hidden\");\n"
	"\t\tf.g.classList.toggle(\"anc\", ancestor);\n"
	"\t\tf.r.setAttribute(\"x\", x.toFixed(2));\n"
	"\t\tf.r.setAttribute(\"width\", w.toFixed(2));\n"
	"\t\tlabel(f, x, w);\n"
	"\t}\n"
	"\n"
	"\tfunction zoom(z) {\n"
	"\t\tvar k = (W - 2 * XPAD) / z.w;\n"
	"\t\tframes.forEach(function (f) {\n"
	"\t\t\tvar inside = f.x >= z.x - EPS && f.x + f.w <= z.x + z.w + EPS;\n"
	"\t\t\tvar spans = f.x <= z.x + EPS && f.x + f.w >= z.x + z.w - EPS;\n"
	"\t\t\tif (f.y > z.y && spans)\n"
	"\t\t\t\tplace(f, XPAD, W - 2 * XPAD, true);\n"
	"\t\t\telse if (f.y <= z.y && inside)\n"
	"\t\t\t\tplace(f, XPAD + (f.x - z.x) * k, f.w * k, false);\n"
	"\t\t\telse\n"
	"\t\t\t\tf.g.classList.add(\"hidden\");\n"
	"\t\t});\n"
	"\t\tunzoom.classList.toggle(\"hidden\", z === root);\n"
	"\t}\n"
	"\n"
	"\tfunction clearSearch() {\n"
	"\t\tframes.forEach(function (f) { f.r.setAttribute(\"fill\", f.fill); });\n"
	"\t\tmatched.textContent = \" \";\n"
	"\t\tsearch.textContent = \"Search\";\n"
	"\t\tsearching = false;\n"
	"\t}\n"
	"\n"
	"\t/* nested matches count once: only the outermost of overlapping frames adds its width "
	"*/\n"
	"\tfunction find(re) {\n"
	"\t\tvar hits = frames.filter(function (f) { return re.test(f.chars.join(\"\")); });\n"
	"\t\tvar sum = 0, end = -Infinity;\n"
	"\t\thits.forEach(function (f) { f.r.setAttribute(\"fill\", \"rgb(230,0,230)\"); });\n"
	"\t\thits.sort(function (a, b) { return a.x - b.x || b.w - a.w; });\n"
	"\t\thits.forEach(function (f) {\n"
	"\t\t\tif (f.x >= end - EPS) {\n"
	"\t\t\t\tsum += f.w;\n"
	"\t\t\t\tend = f.x + f.w;\n"
	"\t\t\t}\n"
	"\t\t});\n"
	"\t\tmatched.textContent = \"Matched: \" + (100 * sum / root.w).toFixed(1) + \" %\";\n"
	"\t\tsearch.textContent = \"Reset Search\";\n"
	"\t\tsearching = true;\n"
	"\t}\n"
	"\n"
	"\tsearch.addEventListener(\"click\", function () {\n"
	"\t\tvar s, re;\n"
	"\t\tif (searching)\n"
	"\t\t\treturn clearSearch();\n"
	"\t\ts = prompt(\"Search frames (regular expression):\", \"\");\n"
	"\t\tif (!s)\n"
	"\t\t\treturn;\n"
	"\t\ttry {\n"
	"\t\t\tre = new RegExp(s);\n"
	"\t\t} catch (e) {\n"
	"\t\t\treturn alert(\"Not a regular expression: \" + e.message);\n"
	"\t\t}\n"
	"\t\tfind(re);\n"
	"\t});\n"
	"\tunzoom.addEventListener(\"click\", function () { zoom(root); });\n"
	"\tdocument.documentElement.addEventListener(\"click\", function (e) {\n"
	"\t\tvar g = e.target.closest(\"g.f\");\n"
	"\t\tif (g)\n"
	"\t\t\tzoom(g.frame);\n"
	"\t});\n"
	"\tdocument.documentElement.addEventListener(\"mouseover\", function (e) {\n"
	"\t\tvar g = e.target.closest(\"g.f\");\n"
	"\t\tdetails.textContent = g ? g.frame.tip : \" \";\n"
	"\t});\n"
	"\tdocument.documentElement.addEventListener(\"mouseleave\", function () {\n"
	"\t\tdetails.textContent = \" \";\n"
	"\t});\n"
	"})();\n";

static void put_script(FILE *f)
{
	/* the layout constants the script shares with this file */
	fprintf(f,
		"<script type=\"text/ecmascript\"><![CDATA[\n"
		"var W = %d, XPAD = %d, CHAR_W = %d, TEXT_DY = %.1f;\n",
		IMAGE_W, XPAD, CHAR_W, TEXT_DY);
	fputs(script, f);
	fputs("]]></script>\n", f);
}

static void put_empty(FILE *f, const char *title)
{
	put_head(f, title, 100);
	fprintf(f,
		"<text x=\"%d\" y=\"64\" text-anchor=\"middle\">no off-CPU time recorded</text>\n",
		IMAGE_W / 2);
	fputs("</svg>\n", f);
}

static void put_graph(FILE *f, const char *title, const struct tree *t)
{
	struct plot p = {.f = f, .t = t, .total = (double)t->nodes[0].value};

	p.scale = (IMAGE_W - 2 * XPAD) / p.total;
	measure(&p, 0, 0, false);
	p.height = TOP_H + (p.max_depth + 1) * FRAME_H + BOTTOM_H;
	put_head(f, title, p.height);
	put_legend(&p);
	put_controls(&p);
	draw(&p, 0, 0, XPAD, IMAGE_W - XPAD, false);
	put_script(f);
	fputs("</svg>\n", f);
}

int flame_svg(FILE *f, const char *title, const struct flame_row *rows, size_t n)
{
	struct tree t = {0};
	int err;

	errno = 0;
	err = build(&t, rows, n);
	if (!err && t.n)
		put_graph(f, title, &t);
	else if (!err)
		put_empty(f, title);
	tree_free(&t);
	if (err)
		return err;
	/* buffered output fails late: flush so that the caller hears of it here */
	if (fflush(f) == EOF || ferror(f))
		return errno ? -errno : -EIO;
	return 0;
}

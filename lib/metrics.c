/* metrics.c: a tiny Prometheus registry (nginx stub_status in spirit). */
#include "rap/metrics.h"
#include "rap/err.h"
#include "rap/mem.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct rap_metrics {
	pthread_mutex_t lock; /* guards the list shape, not the values */
	struct rap_metric *head;
	struct rap_metric *tail;
};

struct rap_metrics *rap_metrics_new(void)
{
	struct rap_metrics *m = rap_calloc(1, sizeof(*m));

	pthread_mutex_init(&m->lock, NULL);
	return m;
}

void rap_metrics_free(struct rap_metrics *m)
{
	struct rap_metric *s, *next;

	if (!m)
		return;
	for (s = m->head; s; s = next) {
		next = s->next;
		free(s);
	}
	pthread_mutex_destroy(&m->lock);
	free(m);
}

struct rap_metric *rap_metrics_add(struct rap_metrics *m, enum rap_metric_type type,
				   const char *name, const char *labels,
				   const char *help)
{
	struct rap_metric *s = rap_calloc(1, sizeof(*s));

	s->name = name;
	s->labels = labels;
	s->help = help;
	s->type = type;
	atomic_init(&s->value, 0);
	pthread_mutex_lock(&m->lock);
	if (m->tail)
		m->tail->next = s;
	else
		m->head = s;
	m->tail = s;
	pthread_mutex_unlock(&m->lock);
	return s;
}

/* True when an earlier series of the list has the same family name. */
static int family_seen(const struct rap_metric *head, const struct rap_metric *s)
{
	for (; head != s; head = head->next)
		if (strcmp(head->name, s->name) == 0)
			return 1;
	return 0;
}

int rap_metrics_render(struct rap_metrics *m, struct rap_buf *out)
{
	struct rap_metric *s, *t;
	int result = RAP_OK;

	pthread_mutex_lock(&m->lock);
	for (s = m->head; s && result == RAP_OK; s = s->next) {
		if (family_seen(m->head, s))
			continue;
		result = rap_buf_appendf(out, "# HELP %s %s\n# TYPE %s %s\n",
					 s->name, s->help, s->name,
					 s->type == RAP_COUNTER ? "counter" : "gauge");
		for (t = s; t && result == RAP_OK; t = t->next) {
			if (strcmp(t->name, s->name) != 0)
				continue;
			result = rap_buf_appendf(out, "%s%s%s%s %lld\n", t->name,
						 t->labels ? "{" : "",
						 t->labels ? t->labels : "",
						 t->labels ? "}" : "",
						 (long long)atomic_load(&t->value));
		}
	}
	pthread_mutex_unlock(&m->lock);
	return result;
}

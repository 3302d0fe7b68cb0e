/*
 * raftkit_interrupt_after(ms): a SQLite extension that interrupts the connection's running
 * statement once `ms` milliseconds have passed (0 disarms). better-sqlite3 builds SQLite without
 * the progress callback, and its JavaScript API has no sqlite3_interrupt(), so a statement that
 * runs too long cannot be stopped from JavaScript; a timer thread per connection calls
 * sqlite3_interrupt(), which SQLite documents as safe from another thread.
 */
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1
#include <pthread.h>
#include <time.h>
#include <errno.h>

typedef struct {
  sqlite3 *db;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int armed;
  int stop;
  struct timespec deadline;
} Timer;

static int before(const struct timespec *a, const struct timespec *b) {
  return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static void *run(void *p) {
  Timer *t = (Timer *)p;
  pthread_mutex_lock(&t->mu);
  while (!t->stop) {
    if (!t->armed) {
      pthread_cond_wait(&t->cv, &t->mu);
      continue;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (!before(&now, &t->deadline)) {
      t->armed = 0;
      sqlite3_interrupt(t->db);
      continue;
    }
    pthread_cond_timedwait(&t->cv, &t->mu, &t->deadline);
  }
  pthread_mutex_unlock(&t->mu);
  return 0;
}

static void interrupt_after(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  Timer *t = (Timer *)sqlite3_user_data(ctx);
  sqlite3_int64 ms = sqlite3_value_int64(argv[0]);
  pthread_mutex_lock(&t->mu);
  if (ms > 0) {
    clock_gettime(CLOCK_REALTIME, &t->deadline);
    t->deadline.tv_sec += ms / 1000;
    t->deadline.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t->deadline.tv_nsec >= 1000000000L) {
      t->deadline.tv_sec += 1;
      t->deadline.tv_nsec -= 1000000000L;
    }
    t->armed = 1;
  } else {
    t->armed = 0;
  }
  pthread_cond_signal(&t->cv);
  pthread_mutex_unlock(&t->mu);
  sqlite3_result_int64(ctx, ms);
}

static void destroy(void *p) {
  Timer *t = (Timer *)p;
  pthread_mutex_lock(&t->mu);
  t->stop = 1;
  pthread_cond_signal(&t->cv);
  pthread_mutex_unlock(&t->mu);
  pthread_join(t->thread, 0);
  pthread_cond_destroy(&t->cv);
  pthread_mutex_destroy(&t->mu);
  sqlite3_free(t);
}

#ifdef _WIN32
__declspec(dllexport)
#endif
int sqlite3_extension_init(sqlite3 *db, char **pzErrMsg, const sqlite3_api_routines *pApi) {
  SQLITE_EXTENSION_INIT2(pApi);
  (void)pzErrMsg;
  Timer *t = (Timer *)sqlite3_malloc(sizeof(Timer));
  if (t == 0) return SQLITE_NOMEM;
  t->db = db;
  t->armed = 0;
  t->stop = 0;
  pthread_mutex_init(&t->mu, 0);
  pthread_cond_init(&t->cv, 0);
  if (pthread_create(&t->thread, 0, run, t) != 0) {
    sqlite3_free(t);
    return SQLITE_ERROR;
  }
  /* The function owns the timer: SQLite calls destroy when the connection closes. */
  return sqlite3_create_function_v2(db, "raftkit_interrupt_after", 1, SQLITE_UTF8, t, interrupt_after, 0, 0, destroy);
}

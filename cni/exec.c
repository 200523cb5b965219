/* Delegation: running another CNI plugin (an IPAM plugin) as the spec says: same
   environment but CNI_COMMAND, the configuration on stdin, the result on stdout. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/wait.h>

#include "cni/cni.h"
#include "lib/buf.h"
#include "lib/json.h"

static char *
find_plugin (const char *type, const char *cni_path)
{
  if (cni_path == NULL)
    return NULL;
  _cleanup_free_ char *dup = xstrdup (cni_path);
  char *save = NULL;
  for (char *dir = strtok_r (dup, ":", &save); dir; dir = strtok_r (NULL, ":", &save))
    {
      char *p = xasprintf ("%s/%s", dir, type);
      if (access (p, X_OK) == 0)
        return p;
      free (p);
    }
  return NULL;
}

static int
write_all (int fd, const char *data, size_t len)
{
  while (len > 0)
    {
      ssize_t n = write (fd, data, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -errno;
      data += n;
      len -= (size_t)n;
    }
  return 0;
}

/* Turns a failed plugin's stdout into an error carrying its code. */
static int
plugin_error (const char *type, const char *command, int status, const char *out, husk_error **err)
{
  _cleanup_json_ json_t *j = json_loads (out, 0, NULL);
  json_t *code = j ? json_object_get (j, "code") : NULL;
  /* A code outside the spec's positive range (or one that would overflow the errnum)
     cannot be passed through: it becomes 103 with the plugin's message. */
  if (json_is_integer (code)
      && (json_integer_value (code) < 1 || json_integer_value (code) > INT_MAX - CNI_ERRNUM_BASE))
    code = NULL;
  if (json_is_integer (code))
    {
      const char *msg = json_string_value (json_object_get (j, "msg"));
      const char *details = json_string_value (json_object_get (j, "details"));
      return husk_err (err, CNI_ERRNUM ((int)json_integer_value (code)), "%s %s: %s%s%s", type,
                       command, msg ? msg : "failed", details && *details ? ": " : "",
                       details && *details ? details : "");
    }
  const char *msg = json_string_value (json_object_get (j, "msg"));
  if (msg && *msg)
    return cni_err (err, CNI_ERR_DELEGATE, "%s %s: %s", type, command, msg);
  if (WIFSIGNALED (status))
    return cni_err (err, CNI_ERR_DELEGATE, "%s %s: killed by signal %d", type, command,
                    WTERMSIG (status));
  return cni_err (err, CNI_ERR_DELEGATE, "%s %s: exited with status %d", type, command,
                  WEXITSTATUS (status));
}

int
cni_exec_plugin (const char *type, const char *cni_path, const char *command, json_t *stdin_json,
                 json_t **out, husk_error **err)
{
  _cleanup_free_ char *path = find_plugin (type, cni_path);
  if (path == NULL)
    return cni_err (err, CNI_ERR_INVALID_CONFIG, "plugin \"%s\" not found in CNI_PATH (%s)", type,
                    cni_path ? cni_path : "unset");
  return cni_exec_file (path, type, command, NULL, -1, stdin_json, out, err);
}

char *
cni_find_plugin (const char *type, const char *cni_path)
{
  return find_plugin (type, cni_path);
}

int
cni_exec_file (const char *path, const char *type, const char *command, char *const *envp,
               int stderr_fd, json_t *stdin_json, json_t **out, husk_error **err)
{
  _cleanup_free_ char *input = husk_json_dump (stdin_json);
  int in[2], outp[2];
  if (pipe2 (in, O_CLOEXEC) < 0)
    return husk_err_errno (err, "%s: pipe", type);
  if (pipe2 (outp, O_CLOEXEC) < 0)
    {
      int e = errno;
      close (in[0]);
      close (in[1]);
      return husk_err_sys (err, e, "%s: pipe", type);
    }
  pid_t pid = fork ();
  if (pid < 0)
    {
      int e = errno;
      close (in[0]);
      close (in[1]);
      close (outp[0]);
      close (outp[1]);
      return husk_err_sys (err, e, "%s: fork", type);
    }
  if (pid == 0)
    {
      if (dup2 (in[0], 0) < 0 || dup2 (outp[1], 1) < 0)
        _exit (127);
      if (stderr_fd >= 0 && dup2 (stderr_fd, 2) < 0)
        _exit (127);
      char *argv[] = { (char *)path, NULL };
      if (envp)
        execve (path, argv, envp);
      else
        {
          setenv ("CNI_COMMAND", command, 1);
          execv (path, argv);
        }
      _exit (127);
    }
  close (in[0]);
  close (outp[1]);
  signal (SIGPIPE, SIG_IGN);
  int wr = write_all (in[1], input, strlen (input));
  close (in[1]);
  husk_buf b = HUSK_BUF_INIT;
  char chunk[4096];
  for (;;)
    {
      ssize_t n = read (outp[0], chunk, sizeof chunk);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      husk_buf_append (&b, chunk, (size_t)n);
    }
  close (outp[0]);
  int status = 0;
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  _cleanup_free_ char *text = husk_buf_steal (&b);
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0 && wr < 0)
    return husk_err_sys (err, -wr, "%s %s: write configuration", type, command);
  return cni_exec_decode (type, command, status, text, out, err);
}

int
cni_exec_decode (const char *type, const char *command, int status, const char *text,
                 json_t **out, husk_error **err)
{
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    return plugin_error (type, command, status, text, err);
  if (out == NULL || text[strspn (text, " \t\r\n")] == '\0')
    return 0;
  json_error_t jerr;
  json_t *j = json_loads (text, 0, &jerr);
  if (j == NULL)
    return cni_err (err, CNI_ERR_DECODE, "%s %s: output: line %d, column %d: %s", type, command,
                    jerr.line, jerr.column, jerr.text);
  if (!json_is_object (j))
    {
      json_decref (j);
      return cni_err (err, CNI_ERR_DECODE, "%s %s: output: expected a JSON object", type,
                      command);
    }
  *out = j;
  return 0;
}

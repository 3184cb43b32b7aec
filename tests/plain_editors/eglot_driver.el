;;; eglot_driver.el --- drives eglot in `emacs --batch' for test_emacs_eglot.py  -*- lexical-binding: t -*-
;; Loaded after the configuration from docs/editors.md. The scenario comes from
;; AGY_SCENARIO, the file from AGY_FILE; results go to AGY_RESULT as JSON. eglot's
;; own prompts (completing-read for actions and showMessageRequest, y-or-n-p for
;; edits) are answered from the queues below, as a person would.
(require 'json)
(require 'eglot)

(defvar agy-picks nil "Titles to pick in eglot's code-action menu, in order.")
(defvar agy-answers nil "Titles to answer eglot's showMessageRequest prompts with.")
(defvar agy-prompts nil "Every showMessageRequest prompt eglot showed.")
(defvar agy-messages nil "Every message shown.")
(defvar agy-confirms nil "Every y-or-n-p question (eglot's before a server's edit).")

(advice-add 'completing-read :around
            (lambda (orig prompt collection &rest args)
              (cond ((string-match-p "Pick an action" prompt) (pop agy-picks))
                    ((string-match-p "Server reports" prompt)
                     (push prompt agy-prompts)
                     (or (pop agy-answers) ""))
                    (t (apply orig prompt collection args)))))
(advice-add 'y-or-n-p :override (lambda (prompt &rest _) (push prompt agy-confirms) t))
(advice-add 'message :before
            (lambda (fmt &rest args) (when fmt (push (apply #'format-message fmt args) agy-messages))))

(defun agy-run-idle-timers (idle)
  "Run the one-shot idle timers due after IDLE seconds without input.
Batch Emacs is never idle, so its idle timers never run; an interactive Emacs runs
them while the person waits. eglot sends `didChange' from one (0.5 s idle), so
without this the server never learns the versions of the edits eglot applied."
  (dolist (timer (copy-sequence timer-idle-list))
    (when (and (not (timer--repeat-delay timer)) (>= idle (float-time (timer--time timer))))
      (timer-event-handler timer))))

(defun agy-wait (pred &optional timeout)
  "Wait (idle, as a person watching) until PRED holds or TIMEOUT seconds pass."
  (let* ((start (float-time)) (deadline (+ start (or timeout 30))))
    (while (and (not (funcall pred)) (< (float-time) deadline))
      (accept-process-output nil 0.05)
      (agy-run-idle-timers (- (float-time) start)))
    (funcall pred)))

(defun agy-action (title)
  "Pick TITLE from eglot's code actions at point."
  (setq agy-picks (list title))
  (let ((last-nonmenu-event ?a))  ; the minibuffer menu, not a popup
    (eglot-code-actions (point) nil nil t)))

(defun agy-titles (&optional kind)
  (mapcar (lambda (a) (plist-get a :title)) (eglot-code-actions (point) nil kind)))

(defun agy-said (text) (lambda () (seq-some (lambda (m) (string-match-p (regexp-quote text) m)) agy-messages)))

(defun agy-result (&rest plist)
  (with-temp-file (getenv "AGY_RESULT") (insert (json-encode plist))))

(defun agy-answered (answers)
  "The chat document has ANSWERS `## agy' headings, ends with an open `## you', and
eglot said the chat ended that many times (the person writes the next one then)."
  (lambda () (and (= answers (how-many "^## agy$" (point-min) (point-max)))
                  (string-suffix-p "\n## you\n\n" (buffer-string))
                  (= answers (seq-count (lambda (m) (string-match-p "agy: chat (notes.agy.md): done" m)) agy-messages)))))

;; Modes come from auto-mode-alist, as for a user. With AGY_START, eglot starts there and
;; AGY_FILE, opened later, joins the running server (as in a session).
(find-file (or (getenv "AGY_START") (getenv "AGY_FILE")))
(call-interactively #'eglot)
(unless (agy-wait (lambda () (eglot-current-server)) 60) (error "eglot did not connect"))
(when (getenv "AGY_START")
  (find-file (getenv "AGY_FILE"))
  (unless (agy-wait (lambda () eglot--managed-mode) 10) (error "eglot does not manage a %s buffer" major-mode)))
(agy-wait (lambda () nil) 0.5)

(pcase (getenv "AGY_SCENARIO")
  ("fix-at-diagnostic"
   (goto-char (point-min)) (forward-line 1) (end-of-line)
   (agy-action "agy: review this")
   (agy-wait (lambda () (member "agy: add subtracts" (agy-titles "quickfix"))))
   ;; C-u M-x eglot-code-actions RET quickfix (eglot 1.9's eglot-code-action-quickfix only lists)
   (let ((last-nonmenu-event ?a)) (eglot-code-actions (point) nil "quickfix" t))
   (agy-wait (lambda () (string-match-p "a \\+ b" (buffer-string))) 10)
   (agy-result :text (buffer-string) :modified (buffer-modified-p)))
  ("marker"
   (goto-char (point-min))
   (setq agy-answers '("Allow once"))
   (agy-action "agy: make this async")
   (agy-wait (lambda () (string-prefix-p "async def load():" (buffer-string))))
   (agy-wait (agy-said "done") 10)
   (agy-result :text (buffer-string) :modified (buffer-modified-p) :prompts agy-prompts))
  ((or "allow" "reject")
   (setq agy-answers (list (if (equal (getenv "AGY_SCENARIO") "allow") "Allow once" "Reject")))
   (agy-action "agy: explain this code")
   (agy-wait (agy-said "agy: explain (m.py): done") 40)
   (agy-result :prompts agy-prompts :messages agy-messages))
  ("cancel"
   (agy-action "agy: explain this code")
   (agy-wait (lambda () (seq-some (lambda (s) (string-prefix-p "agy: cancel" s)) (agy-titles))) 10)
   (let ((started (float-time))
         (cancel (seq-find (lambda (s) (string-prefix-p "agy: cancel" s)) (agy-titles))))
     (let ((answer (agy-action cancel)))
       (agy-wait (agy-said "cancelled") 20)
       (agy-result :seconds (- (float-time) started) :messages agy-messages :answer answer))))
  ("chat"
   (goto-char (point-max))
   (agy-action "agy: send")
   (agy-wait (agy-answered 1) 30)
   (let ((first (buffer-string)))
     (goto-char (point-max))
     (insert "And what is X times 2?\n")  ; the person writes under the new `## you'
     (agy-action "agy: send")
     (agy-wait (agy-answered 2) 30)
     (agy-result :mode major-mode :first first :text (buffer-string) :modified (buffer-modified-p)
                 :confirms (length agy-confirms) :messages agy-messages)))
  ("chat-typing"
   (goto-char (point-max))
   (agy-action "agy: send")
   (agy-wait (lambda () (string-match-p "word" (buffer-string))) 20)  ; the answer is streaming
   (save-excursion (goto-char (point-min)) (end-of-line) (insert "!"))  ; the person types above it
   (agy-wait (agy-answered 1) 30)
   (agy-result :text (buffer-string) :messages agy-messages))
  ("tests"
   (goto-char (point-min))
   (setq agy-answers '("Allow once" "Allow once"))
   (agy-action "agy: write tests for this")
   (agy-wait (agy-said "(m.py): done") 40)
   (agy-result :prompts (reverse agy-prompts) :messages agy-messages :confirms agy-confirms
               :buffers (delq nil (mapcar #'buffer-file-name (buffer-list))))))

(ignore-errors (eglot-shutdown (eglot-current-server)))
(kill-emacs 0)

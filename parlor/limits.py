"""Lengths people run into, one place for every app: a name, a reason, a free-text note.

A form refuses longer text with Django's translated "at most N characters" beside the field, and the
browser stops typing at N (maxlength). Nothing here changes a database column: text columns stay
text, the limit is the models' and forms' validation.
"""

NAME_MAX = 200
REASON_MAX = 300
NOTE_MAX = 2000

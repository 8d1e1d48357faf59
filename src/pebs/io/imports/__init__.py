"""Import formats: readers that turn a file into validated records for the same use cases a
form entry goes through (a CanRisk pedigree into her risk questionnaire's answers).

A reader checks every line against its format's specification and refuses a file with the
line, column, value and allowed values of each problem; it never stores anything. What a file
carries that pebs does not use is counted and reported, never dropped without a word.
"""

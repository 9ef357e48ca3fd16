{#-
    No two rows share the same values in `combination_of_columns` (a compound key). Rows are grouped as
    they are: pair it with column_checks' not_null over the key, as grouping treats NULLs as equal.
-#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

    {{ adapter.dispatch('unique_combination_of_columns_sql', 'chainseg')(model, combination_of_columns) }}

{% endtest %}

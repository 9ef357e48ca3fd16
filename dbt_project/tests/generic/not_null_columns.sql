{#-
    None of `columns` holds a NULL. One test per model instead of dbt's not_null per column: a night runs
    some 270 such checks, and each dbt test node costs about 40 ms however little it reads (compiling,
    asking macros/tests_window.sql for the rows to read, one more scan); this test reads the rows once
    and counts the NULLs of every column in that scan. A failure returns one row per column holding NULLs:
    the column's name and how many rows.
-#}
{% test not_null_columns(model, columns) %}

    with

    counted as (

        select
            {%- for column in columns %}
            count(*) - count({{ adapter.quote(column) }}) as {{ adapter.quote('nulls_' ~ loop.index) }}
            {%- if not loop.last %},{% endif %}
            {%- endfor %}
        from {{ model }}

    )

    {% for column in columns %}
    select '{{ column }}' as column_name, {{ adapter.quote('nulls_' ~ loop.index) }} as null_rows
    from counted
    where {{ adapter.quote('nulls_' ~ loop.index) }} > 0
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

{% endtest %}

{#-
    No two rows share the same values in `combination_of_columns` (a compound key). Rows are grouped as
    they are: pair it with not_null_columns over the key, as grouping treats NULLs as equal.
-#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

    {%- set columns_csv = combination_of_columns | join(', ') %}

    with

    validation as (

        select
            {{ columns_csv }},
            count(*) as n_rows
        from {{ model }}
        group by {{ columns_csv }}
        having count(*) > 1

    )

    select * from validation

{% endtest %}

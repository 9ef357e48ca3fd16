{#- The queries of the unique_combination_of_columns test (tests/generic/unique_combination_of_columns.sql):
    rows returned are the key values that more than one row holds, with their count. -#}

{% macro default__unique_combination_of_columns_sql(model, combination_of_columns) %}

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

{% endmacro %}


{#-
    DuckDB: group by one 64-bit hash of the key first, then group the full key of only the rows whose hash
    came up twice (none, unless there is a duplicate or a hash collision, which the second grouping tells
    apart): the same rows as the default. Grouping by one integer instead of text keys is the gain: on the
    benchmark's raw.transactions (12 million rows keyed by chain id and hash) 3.3-4.4 s -> 2.1-2.8 s; keys
    made of integers gain little.
-#}
{% macro duckdb__unique_combination_of_columns_sql(model, combination_of_columns) %}

    {%- set columns_csv = combination_of_columns | join(', ') %}

    with

    repeated_hashes as (

        select hash({{ columns_csv }}) as key_hash
        from {{ model }}
        group by key_hash
        having count(*) > 1

    ),

    validation as (

        select
            {{ columns_csv }},
            count(*) as n_rows
        from {{ model }}
        where hash({{ columns_csv }}) in (select key_hash from repeated_hashes)
        group by {{ columns_csv }}
        having count(*) > 1

    )

    select * from validation

{% endmacro %}

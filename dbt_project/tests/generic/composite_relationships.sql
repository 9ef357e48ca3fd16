{#-
    Every row of the model whose `columns` are all non-null finds a row of `to` with the same values in
    `to_columns` (default: the same names): dbt's `relationships` test for a compound key such as
    (chain_id, block_number). Restrict the child rows with the test's `where` config.
-#}
{% test composite_relationships(model, columns, to, to_columns=none) %}

    {%- set parent_columns = to_columns or columns %}

    with

    child as (

        select
            {{ columns | join(', ') }}
        from {{ model }}
        where
            {% for column in columns -%}
            {{ column }} is not null{{ ' and' if not loop.last }}
            {% endfor %}

    ),

    orphans as (

        select child.*
        from child
        where not exists (
            select 1
            from {{ to }} as parent
            where
                {% for column in columns -%}
                parent.{{ parent_columns[loop.index0] }} = child.{{ column }}{{ ' and' if not loop.last }}
                {% endfor %}
        )

    )

    select * from orphans

{% endtest %}

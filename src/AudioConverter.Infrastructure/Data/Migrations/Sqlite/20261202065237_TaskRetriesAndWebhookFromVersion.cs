using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AudioConverter.Infrastructure.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class TaskRetriesAndWebhookFromVersion : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "FromVersion",
                table: "webhook_endpoints",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "Retries",
                table: "tasks",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "FromVersion",
                table: "webhook_endpoints");

            migrationBuilder.DropColumn(
                name: "Retries",
                table: "tasks");
        }
    }
}

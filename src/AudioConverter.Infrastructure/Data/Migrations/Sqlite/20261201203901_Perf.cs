using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AudioConverter.Infrastructure.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Perf : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "InputSha256",
                table: "tasks",
                type: "TEXT",
                maxLength: 64,
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_tasks_UserId_CreatedAt_InputBytes",
                table: "tasks",
                columns: new[] { "UserId", "CreatedAt", "InputBytes" });

            migrationBuilder.CreateIndex(
                name: "IX_tasks_UserId_InputSha256",
                table: "tasks",
                columns: new[] { "UserId", "InputSha256" });

            migrationBuilder.CreateIndex(
                name: "IX_tasks_UserId_Status",
                table: "tasks",
                columns: new[] { "UserId", "Status" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_tasks_UserId_CreatedAt_InputBytes",
                table: "tasks");

            migrationBuilder.DropIndex(
                name: "IX_tasks_UserId_InputSha256",
                table: "tasks");

            migrationBuilder.DropIndex(
                name: "IX_tasks_UserId_Status",
                table: "tasks");

            migrationBuilder.DropColumn(
                name: "InputSha256",
                table: "tasks");
        }
    }
}
